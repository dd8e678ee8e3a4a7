"""Appendix 1-fig 2: (a) important input synapses per neuron of every layer, one row per weight matrix as in
the paper (row l: the neurons weight matrix l feeds), true vs shuffled connectivity (KS test per layer); (b) important
inputs vs outputs of both hidden layers (Pearson r). One representative run, as in the paper. Layer names:
plotting.LAYER_NAMES."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from presyn import plotting
from presyn.figures.fig2 import stat
from presyn.figures.fig3 import in_out_scatter, ks_text, neuron_hist

# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {
    "appfig2.ks_layer1_significant": "a",
    "appfig2.ks_layer2_significant": "a",
    "appfig2.ks_layer3_not_significant": "a",
    "appfig2.ks_p.layer3": "a",
    "appfig2.output_inputs_similar": "a",
    "appfig2.pearson_in_out.layer2": "b",
    "appfig2.in_out_correlated.layer2": "b",
}


def draw(
    neurons: pd.DataFrame,
    in_out: pd.DataFrame,
    stats_df: pd.DataFrame,
    seed: int,
    pdf: str,
    png: str,
    title_note: str = "",
    published=None,
) -> None:
    plotting.style()
    layers = sorted(neurons["layer"].unique())
    hidden = sorted(in_out["hidden_layer"].unique())
    rows = max(len(layers), 1) * max(len(hidden), 1)  # a grid both columns divide evenly: no empty slot
    # each histogram's title has 3 lines (layer, KS test, D and P): taller rows, more space between them
    fig = plt.figure(figsize=(7.2, 2.8 * max(len(layers), 2)))
    grid = fig.add_gridspec(rows, 2, hspace=1.6 * max(len(hidden), 1), wspace=0.35)
    per_a, per_b = rows // max(len(layers), 1), rows // max(len(hidden), 1)
    axes_a = [fig.add_subplot(grid[i * per_a : (i + 1) * per_a, 0]) for i in range(len(layers))]
    axes_b = [fig.add_subplot(grid[i * per_b : (i + 1) * per_b, 1]) for i in range(len(hidden))]
    for i, (ax, layer) in enumerate(zip(axes_a, layers)):
        neuron_hist(ax, neurons, layer, seed, "important_in")
        n_in = int(neurons[neurons["layer"] == layer]["n_in"].iloc[0])
        ax.set_xlabel(f"important input synapses per neuron (of {n_in})")
        ax.set_ylabel("neurons")
        ax.set_title(f"{plotting.layer_name(layer)} neurons")
        ks_text(ax, stat(stats_df, f"appfig2.ks.layer{layer}"))
        if i == 0:
            ax.legend(frameon=False, loc="upper right", title="connectivity")
    if axes_a:
        plotting.panel_letter(axes_a[0], "a")
    for ax, h in zip(axes_b, hidden):
        in_out_scatter(ax, in_out, h, seed, stat(stats_df, f"appfig2.pearson_in_out.layer{h}"))
    if axes_b:
        plotting.panel_letter(axes_b[0], "b")
    plotting.mark_panels(
        fig,
        {"a": axes_a[0] if axes_a else None, "b": axes_b[0] if axes_b else None},
        plotting.not_reproduced("appfig2", stats_df, published, PANELS),
    )
    fig.suptitle(f"Neuron-level sparsity, every layer (seed {seed})" + title_note)
    plotting.tight_layout(fig, h_pad=2.0)
    plotting.save(fig, pdf, png)
