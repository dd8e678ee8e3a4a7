# Optional (config batched_training.lifelong, off by default): the lifelong and ablation runs of kinds presyn,
# fixedp, deterministic (SGD / Adam), ewc and bgd trained several networks per job as stacked weights
# (presyn.batched_lifelong), for GPUs that one small MLP leaves idle. Runs that may share a job
# (batched_lifelong.group_specs: same benchmark, data, sizes, tasks, epochs, model kind / optimizer) are
# packed, in run-key order, into jobs of at most `networks_per_job`; one rule per job
# (train_stacked_lifelong_<i>), each the only producer of its runs' files (ruleorder over `train`). The
# search trials stay with `train`. Same per-run files, checkpoints per run after every task.
_BL = config.get("batched_training") or {}

if _BL.get("lifelong", False):
    import re

    from presyn import batched_lifelong as _bl  # imports torch: only when the switch is on

    def _bl_resources():
        """Resources of every stacked lifelong job: 4000 MB, 480 min, overridden by a profile's
        set-resources entry `train_stacked_lifelong` (the per-job rule names are numbered)."""
        res = {"mem_mb": 4000, "runtime": 480}
        try:
            over = workflow.resource_settings.overwrite_resources.get("train_stacked_lifelong") or {}
            res.update({k: getattr(v, "value", v) for k, v in dict(over).items()})
        except Exception:  # another Snakemake layout: the defaults above
            pass
        return res

    _bl_res = _bl_resources()
    _bl_jobs = _bl.group_specs(list(RUNS.values()), int(_BL.get("networks_per_job", 32)))

    for _bl_i, _bl_job in enumerate(_bl_jobs):
        _bl_dirs = [run_dir(s) for s in _bl_job]
        _bl_name = f"train_stacked_lifelong_{_bl_i}"
        _bl_label = f"{_bl_i:03d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', planning.run_key(_bl_job[0]))}_x{len(_bl_job)}"
        workflow.ruleorder(_bl_name, "train")

        rule:
            name:
                _bl_name
            input:
                data=f"data/processed/{_bl_job[0]['dataset']['name']}.npz",
            output:
                metrics=[f"{d}/metrics.parquet" for d in _bl_dirs],
                state=[f"{d}/state.pt" for d in _bl_dirs],
                provenance=[f"{d}/provenance.json" for d in _bl_dirs],
            params:
                specs=_bl_job,
                device=config.get("device", "auto"),
            threads: train_threads
            resources:
                **_bl_res,
            log:
                f"logs/train_stacked_lifelong/{_bl_label}.log",
            benchmark:
                f"results/benchmarks/train_stacked_lifelong/{_bl_label}.tsv"
            script:
                "../../scripts/train_batched_lifelong.py"
