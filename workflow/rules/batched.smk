# Optional (config batched_training.enabled): several energy networks per job as stacked weights
# (presyn.experiments.energy: one learner over the group's stacked networks), for GPUs that one small MLP leaves idle. Writes the same per-run files as the
# generic `train` rule; `ruleorder` makes this rule their only producer while the switch is on.
import re as _re

BATCHED = config.get("batched_training") or {}


def _batched_specs():
    from presyn.experiments import energy as _energy  # imports torch: only when the switch is on

    return {k: s for k, s in RUNS.items() if _energy.groupable(s)}


if BATCHED.get("enabled", False) and _batched_specs():
    _bspecs = _batched_specs()
    _bseeds = planning.seeds_for(config, "energy")
    _bbench = lambda: sorted({s["benchmark"] for s in _bspecs.values()})  # noqa: E731
    _alt = lambda names: "|".join(_re.escape(n) for n in sorted(names))  # noqa: E731
    if BATCHED.get("over", "seeds") == "seeds":
        # one job per method (model x weight decay, or a fixed-p sweep point, ...): all its seeds;
        # a method whose runs use other seeds than energy's (e.g. fixedp_sweep.seeds) stays with `train`
        _bmethods = {}
        for s in _bspecs.values():
            _bmethods.setdefault(s["method"], set()).add(s["seed"])
        _bspecs = {k: s for k, s in _bspecs.items() if _bmethods[s["method"]] == set(_bseeds)}
        _btarget = "results/runs/energy/{{method}}/{{benchmark}}/seed{seed}/{file}"
        _bexpand = dict(seed=_bseeds)
        _bconstraints = dict(method=_alt({s["method"] for s in _bspecs.values()}), benchmark=_alt(_bbench()))
        _bname = "{method}/{benchmark}"

        def batched_group(wildcards):
            return [_bspecs[f"energy/{wildcards.method}/{wildcards.benchmark}/seed{seed}"] for seed in _bseeds]

    else:
        # one job per model: all its weight decays x seeds (the Fig-1 runs only)
        _bspecs = {k: s for k, s in _bspecs.items() if not s.get("energy_group")}
        _bwds = sorted({s["weight_decay"] for s in _bspecs.values()})
        _btarget = "results/runs/energy/{method}/{{benchmark}}/seed{seed}/{file}"
        _bexpand = dict(method=[planning.method_name("{model}", wd=wd) for wd in _bwds], seed=_bseeds)
        _bconstraints = dict(model=_alt({s["model_name"] for s in _bspecs.values()}), benchmark=_alt(_bbench()))
        _bname = "{model}/{benchmark}"

        def batched_group(wildcards):
            return [
                _bspecs[f"energy/{planning.method_name(wildcards.model, wd=wd)}/{wildcards.benchmark}/seed{seed}"]
                for wd in _bwds
                for seed in _bseeds
            ]

    def batched_data(wildcards):
        return f"data/processed/{batched_group(wildcards)[0]['dataset']['name']}.npz"

    ruleorder: train_batched > train

    rule train_batched:
        input:
            data=batched_data,
        output:
            metrics=expand(_btarget, file="metrics.parquet", **_bexpand),
            state=expand(_btarget, file="state.pt", **_bexpand),
            provenance=expand(_btarget, file="provenance.json", **_bexpand),
        wildcard_constraints:
            **_bconstraints,
        params:
            specs=batched_group,
            device=config.get("device", "auto"),
        threads: train_threads
        resources:
            mem_mb=4000,
            runtime=240,
        log:
            f"logs/train_batched/energy/{_bname}.log",
        benchmark:
            f"results/benchmarks/train_batched/energy/{_bname}.tsv"
        script:
            "../../scripts/train_batched.py"
