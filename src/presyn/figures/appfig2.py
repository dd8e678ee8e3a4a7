"""Appendix 1-fig 2: (a) important input synapses per neuron for every weight matrix, true vs shuffled
connectivity (KS test per layer); (b) important inputs vs outputs of both hidden layers (Pearson r).
One representative run, as in the paper."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from presyn import plotting
from presyn.figures.fig2 import stat
from presyn.figures.fig3 import in_out_scatter, ks_text, neuron_hist


def draw(neurons: pd.DataFrame, in_out: pd.DataFrame, stats_df: pd.DataFrame, seed: int, pdf: str, png: str,
         title_note: str = "") -> None:
    plotting.style()
    layers = sorted(neurons["layer"].unique())
    hidden = sorted(in_out["hidden_layer"].unique())
    ncol = max(len(layers), len(hidden))
    fig, axes = plt.subplots(2, ncol, figsize=(4 * ncol, 7), squeeze=False)
    for j, layer in enumerate(layers):
        ax = axes[0, j]
        neuron_hist(ax, neurons, layer, seed, "important_in")
        n_in = int(neurons[neurons["layer"] == layer]["n_in"].iloc[0])
        ax.set_xlabel(f"important input synapses (of {n_in})")
        ax.set_ylabel(f"neurons fed by weight matrix {layer}")
        ax.set_title(f"weight matrix {layer}" + (" (output layer)" if layer == layers[-1] else ""), fontsize=9)
        ks_text(ax, stat(stats_df, f"appfig2.ks.layer{layer}"))
        if j == 0:
            ax.legend(frameon=False, fontsize=7)
            plotting.panel_letter(ax, "a")
    for j, h in enumerate(hidden):
        in_out_scatter(axes[1, j], in_out, h, seed, stat(stats_df, f"appfig2.pearson_in_out.layer{h}"))
        if j == 0:
            plotting.panel_letter(axes[1, j], "b")
    for j in range(len(hidden), ncol):
        axes[1, j].axis("off")
    fig.suptitle(f"Neuron-level sparsity, every layer (seed {seed})" + title_note, fontsize=10)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
