"""Write the SYNTHETIC Sjöström-layout file (presyn.sjostrom.synthetic): made-up data for tests and the quick
config, never the real recordings. Snakemake entry (rule synthetic_sjostrom) or command line:

    python scripts/make_synthetic_sjostrom.py OUT.csv|OUT.xlsx [--n 40] [--seed 0] [--n-sites 5.5]
"""
import argparse

from presyn import logs
from presyn.sjostrom.synthetic import write_synthetic

if "snakemake" in globals():
    log = logs.setup(snakemake.log[0])
    p = snakemake.params
    df = write_synthetic(snakemake.output[0], n=int(p.n), seed=int(p.seed), n_sites=float(p.n_sites))
    log.info("wrote %d SYNTHETIC recordings to %s (not Sjöström et al. 2001)", len(df), snakemake.output[0])
else:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-sites", type=float, default=5.5)
    a = ap.parse_args()
    df = write_synthetic(a.out, n=a.n, seed=a.seed, n_sites=a.n_sites)
    print(f"wrote {len(df)} SYNTHETIC recordings to {a.out} (not Sjöström et al. 2001)")
