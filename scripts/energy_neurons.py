"""Snakemake entry: important input/output synapses per neuron, true vs shuffled connectivity."""

from presyn import logs
from presyn.analysis.sparsity import in_out_table, neuron_table
from presyn.analysis.synapses import load_state, release_probs
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
probs = {
    int(seed): release_probs(load_state(path)) for seed, path in zip(snakemake.params.seeds, snakemake.input.states)
}
p = snakemake.params
write_table(neuron_table(probs, p.important_p, p.shuffle_seed, p.n_sd), snakemake.output.neurons)
write_table(in_out_table(probs, p.important_p), snakemake.output.in_out)
