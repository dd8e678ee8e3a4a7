# Datasets: try the configured sources in order, verify decoded content, store once.


rule fetch_dataset:
    output:
        "data/processed/{dataset}.npz",
    params:
        dataset=get_dataset_spec,
        raw_dir=get_raw_dir,
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/fetch_dataset/{dataset}.tsv"
    resources:
        runtime=30,
    script:
        "../../scripts/fetch_dataset.py"
