"""One look for every figure: palette per model/method, style, panel letters, saving PDF + PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from presyn.io import atomic_path  # noqa: E402

# One colour per model / method, used by every figure.
PALETTE = {
    "presyn": "#1f77b4",          # presynaptic model / consolidation
    "deterministic": "#7f7f7f",   # standard (deterministic) MLP
    "fixedp": "#ff7f0e",          # fixed release probability
    "no_consolidation": "#7f7f7f",
    "bgd": "#2ca02c",
    "ewc": "#d62728",
    "joint": "#000000",
    "shuffled": "#bbbbbb",
    "true": "#1f77b4",
    "ltp": "#d62728",
    "ltd": "#1f77b4",
    "high_p": "#d62728",          # Fig 2c/d: synapses with p >= 0.9
    "low_p": "#6baed6",           # Fig 2c/d: synapses with p < 0.9
    "lowp_first": "#1f77b4",      # Fig 2b: lesion lowest p first
    "random": "#7f7f7f",          # Fig 2b: lesion in random order
    "before": "#bbbbbb",          # Fig 2a: release probabilities before learning
    "after": "#1f77b4",           # Fig 2a: after learning
    "presyn-uniform": "#17becf",  # presynaptic model, initial p uniform in [0.25, 1] (App. fig 1d)
    "standard": "#7f7f7f",        # standard perceptron (Fig 5b, c)
    "ablation-full": "#1f77b4",   # Fig 5a ablation variants
    "ablation-noFreeze": "#9467bd",
    "ablation-noFreezeNoMod": "#8c564b",
    "ablation-noMod": "#e377c2",
    "ablation-fixedP": "#ff7f0e",
    "ablation-noNorm": "#17becf",
}

LABELS = {
    "presyn": "Presynaptic",
    "deterministic": "Standard MLP",
    "fixedp": "Fixed release prob.",
    "no_consolidation": "No consolidation",
    "bgd": "BGD",
    "ewc": "EWC",
    "joint": "Joint training",
    "high_p": "high p (p >= 0.9)",
    "low_p": "low p (p < 0.9)",
    "lowp_first": "low p first",
    "random": "random order",
    "before": "before learning",
    "after": "after learning",
    "presyn-uniform": "Presynaptic, uniform initial p",
    "standard": "Standard perceptron",
}


def style() -> None:
    sns.set_theme(context="paper", style="ticks", font_scale=1.1)
    plt.rcParams.update({"axes.spines.top": False, "axes.spines.right": False, "pdf.fonttype": 42,
                         "savefig.bbox": "tight", "figure.dpi": 100})


def panel_letter(ax, letter: str) -> None:
    ax.text(-0.15, 1.05, letter, transform=ax.transAxes, fontsize=14, fontweight="bold", va="bottom", ha="right")


def color(key: str) -> str:
    return PALETTE.get(key, "#333333")


def label(key: str) -> str:
    return LABELS.get(key, key)


def save(fig, pdf: str | Path, png: str | Path | None = None) -> None:
    """Save as PDF (and PNG beside it) atomically, then close."""
    pdf = Path(pdf)
    png = Path(png) if png else pdf.with_suffix(".png")
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf")
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    plt.close(fig)
