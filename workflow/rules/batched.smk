# Optional, for GPUs that one small MLP leaves idle: several networks per job as stacked weights (the energy or
# lifelong trainer with a group of runs: one learner over the group's stacked networks). Writes the same per-run
# files as the generic `train` rule; `ruleorder` makes these rules their only producers while a switch is on.
# batched_training.enabled: energy runs (train_batched); batched_training.lifelong: lifelong / ablation runs
# (train_stacked_lifelong).
import re as _re

BATCHED = config.get("batched_training") or {}


def _alt_groups(names):
    return "|".join(_re.escape(n) for n in sorted(names))


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
            "../../scripts/train_group.py"


def _stacked_lifelong_groups():
    """One job per lifelong / ablation method x benchmark: all its seeds (`seeds`), when its runs may share a job
    (presyn.experiments.lifelong.refusal) and are at most networks_per_job; the rest stay with `train`."""
    from presyn.experiments import lifelong as _lifelong  # imports torch: only when the switch is on

    seeds = planning.seeds_for(config, "lifelong")
    groups = {}
    for s in RUNS.values():
        if s["experiment"] in _lifelong.EXPERIMENTS and _lifelong.stackable(s):
            groups.setdefault(f"{s['experiment']}/{s['method']}/{s['benchmark']}", {})[s["seed"]] = s
    if len(seeds) > int(BATCHED.get("networks_per_job", 32)):
        return seeds, {}
    return seeds, {g: [m[seed] for seed in seeds] for g, m in groups.items() if sorted(m) == sorted(seeds)}


if BATCHED.get("lifelong", False):
    _lseeds, _lgroups = _stacked_lifelong_groups()

    if _lgroups:

        ruleorder: train_stacked_lifelong > train

        rule train_stacked_lifelong:
            input:
                data=lambda wc: f"data/processed/{_lgroups[wc.group][0]['dataset']['name']}.npz",
            output:
                metrics=expand("results/runs/{{group}}/seed{seed}/metrics.parquet", seed=_lseeds),
                state=expand("results/runs/{{group}}/seed{seed}/state.pt", seed=_lseeds),
                provenance=expand("results/runs/{{group}}/seed{seed}/provenance.json", seed=_lseeds),
            wildcard_constraints:
                group=_alt_groups(_lgroups),
            params:
                specs=lambda wc: _lgroups[wc.group],
                device=config.get("device", "auto"),
            threads: train_threads
            resources:
                mem_mb=4000,
                runtime=480,
            log:
                "logs/train_stacked_lifelong/{group}.log",
            benchmark:
                "results/benchmarks/train_stacked_lifelong/{group}.tsv"
            script:
                "../../scripts/train_group.py"
