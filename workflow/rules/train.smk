# One training job per experiment x method x benchmark x seed (docs/protocol.md#pipeline-contract).


from presyn.experiments import TRAINERS


rule train:
    wildcard_constraints:
        experiment="|".join(sorted(TRAINERS)),  # network-training experiments only (not e.g. perceptron)
    input:
        data=get_run_data,
    output:
        metrics="results/runs/{experiment}/{method}/{benchmark}/seed{seed}/metrics.parquet",
        state="results/runs/{experiment}/{method}/{benchmark}/seed{seed}/state.pt",
        provenance="results/runs/{experiment}/{method}/{benchmark}/seed{seed}/provenance.json",
    params:
        spec=get_run_spec,
        device=config.get("device", "auto"),
    threads: train_threads
    resources:
        mem_mb=1500,
        runtime=120,
    log:
        "logs/train/{experiment}/{method}/{benchmark}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{method}/{benchmark}/seed{seed}.tsv"
    script:
        "../../scripts/train.py"
