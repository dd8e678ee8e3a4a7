"""Snakemake entry: important input/output synapses per neuron at every extra importance cutoff
(energy.analysis.importance_cutoffs), true vs shuffled connectivity; the tables carry a `cutoff` column."""

from presyn import logs
from presyn.analysis.sparsity import cutoff_tables
from presyn.analysis.synapses import load_state, release_probs
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
probs = {
    int(seed): release_probs(load_state(path)) for seed, path in zip(snakemake.params.seeds, snakemake.input.states)
}
p = snakemake.params
neurons, in_out = cutoff_tables(probs, list(p.cutoffs), p.shuffle_seed, p.n_sd)
log.info("neuron tables at cutoffs %s: %d + %d rows", list(p.cutoffs), len(neurons), len(in_out))
write_table(neurons, snakemake.output.neurons)
write_table(in_out, snakemake.output.in_out)
