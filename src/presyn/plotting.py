"""One look for every figure: palette per model/method, style, panel letters, saving PDF + PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

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
    "ablation-fixedPfixedNorm": "#bcbd22",
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


PANEL_LETTER_GID = "panel-letter"
LETTER_PAD_PT = 3.0  # gap (points) between a panel letter and what it clears


def panel_letter(ax, letter: str) -> None:
    """Mark ``ax`` with a bold panel letter. Where it goes is decided once the figure is laid out
    (:func:`place_panel_letters`, run by :func:`tight_layout` and :func:`save`): at the panel's left edge (its
    y label or tick labels included), level with the top of the axes, raised above anything it would cover."""
    ax.text(-0.15, 1.05, letter, transform=ax.transAxes, fontsize=14, fontweight="bold", va="bottom", ha="left",
            gid=PANEL_LETTER_GID)


def panel_letters(fig) -> list:
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == PANEL_LETTER_GID]


def _visible_text(t) -> bool:
    return t.get_visible() and bool(t.get_text().strip())


def text_artists(fig, letters: bool = True) -> list:
    """Every visible, non-empty text of ``fig``: titles, axis and tick labels, texts, legend texts, the
    suptitle; panel letters unless ``letters`` is False."""
    out = []
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title]
        if ax.axison:
            out += [ax.xaxis.label, ax.yaxis.label, ax.xaxis.offsetText, ax.yaxis.offsetText]
            for axis in (ax.xaxis, ax.yaxis):
                ticks = axis.get_major_ticks() + axis.get_minor_ticks()
                lo, hi = sorted(axis.get_view_interval())
                for tick in ticks:  # the ones drawn: inside the view interval
                    if lo - 1e-9 * (hi - lo) <= tick.get_loc() <= hi + 1e-9 * (hi - lo):
                        out += [tick.label1, tick.label2]
        out += [t for t in ax.texts if letters or t.get_gid() != PANEL_LETTER_GID]
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            out += list(leg.get_texts()) + ([leg.get_title()] if leg.get_title() else [])
    out += list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None and fig._suptitle not in fig.texts else [])
    return [t for t in dict.fromkeys(out) if _visible_text(t)]


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _obstacles(fig, renderer, own) -> list:
    """Window extents a panel letter must not cover: every text but the letter itself, every legend, and the
    axes other than the letter's own (or a twin sharing its position)."""
    boxes = [t.get_window_extent(renderer) for t in text_artists(fig) if t is not own]
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            boxes.append(leg.get_window_extent(renderer))
        if ax.get_visible() and ax.axison and ax is not own.axes and ax.get_position().bounds != own.axes.get_position().bounds:
            boxes.append(ax.bbox)
    return [b for b in boxes if b.width > 0 and b.height > 0]


def _raise_clear(t, x: float, y: float, obstacles: list, pad: float, renderer) -> float:
    """Put ``t``'s bottom-left at window (x, y), then raise it until it covers none of ``obstacles``."""
    inv = t.axes.transAxes.inverted()
    for _ in range(50):
        t.set_position(inv.transform((x, y)))
        box = t.get_window_extent(renderer)
        hit = [b for b in obstacles if _overlap(box, b)]
        if not hit:
            break
        y += max(b.y1 for b in hit) - box.y0 + pad
    return y


def place_panel_letters(fig) -> None:
    """Put each panel letter at its panel's left edge (the leftmost of the axes, its tick labels and y label),
    its bottom level with the top of the axes; raise it until it covers no text, legend or other axes; then
    line up the letters of one row of panels at the highest of them."""
    letters = panel_letters(fig)
    if not letters:
        return
    renderer = fig.canvas.get_renderer()
    pad = LETTER_PAD_PT * fig.dpi / 72
    spots = []
    for t in letters:
        ax = t.axes
        left = ax.bbox.x0
        if ax.axison and ax.yaxis.get_visible():
            ybox = ax.yaxis.get_tightbbox(renderer)
            if ybox is not None and ybox.width > 0:
                left = min(left, ybox.x0)
        obstacles = _obstacles(fig, renderer, t)
        spots.append((t, left, _raise_clear(t, left, ax.bbox.y1 + pad, obstacles, pad, renderer), obstacles))
    for t, left, y, obstacles in spots:  # one height per row of panels
        row = [y2 for t2, _, y2, _ in spots if _row(t2.axes) == _row(t.axes)]
        _raise_clear(t, left, max(row), obstacles, pad, renderer)


def _row(ax):
    """The grid row an axes starts in (an axes shrunk to its aspect, such as an image, keeps its row), else
    the top of its box."""
    spec = ax.get_subplotspec()
    if spec is not None:
        return id(spec.get_gridspec()), spec.rowspan.start
    return round(ax.bbox.y1)


def letter_collisions(fig) -> list[tuple[str, str]]:
    """(letter, text) pairs where a panel letter's drawn box overlaps another text (after a draw)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for t in panel_letters(fig):
        box = t.get_window_extent(renderer)
        for other in text_artists(fig):
            if other is not t and _overlap(box, other.get_window_extent(renderer)):
                out.append((t.get_text(), other.get_text()))
    return out


def _text_polygon(t, renderer) -> np.ndarray:
    """The four corners (window coordinates) of a drawn text's box, rotated with the text (the window extent
    of a slanted label is its upright bounding box, far larger than the label)."""
    box = t.get_window_extent(renderer)
    rot = t.get_rotation() % 180
    if rot == 0 or rot == 90:
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    t.set_rotation(0)  # the upright size; the centre of the rotated box is the centre of its bounding box
    upright = t.get_window_extent(renderer)
    t.set_rotation(rot)
    w, h, a = upright.width / 2, upright.height / 2, np.deg2rad(rot)
    rotate = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) @ rotate.T
    return corners + [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]


def _polygons_overlap(p: np.ndarray, q: np.ndarray) -> bool:
    """Separating-axis test of two convex polygons (corners in order)."""
    for poly in (p, q):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            normal = np.array([-edge[1], edge[0]])
            a, b = p @ normal, q @ normal
            if a.max() <= b.min() or b.max() <= a.min():
                return False
    return True


def text_collisions(fig) -> list[tuple[str, str]]:
    """Pairs of drawn texts (any: labels, tick labels, titles, annotations, legend entries, letters) whose
    boxes, slanted with the text, overlap; after a draw."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = text_artists(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    polys = [_text_polygon(t, renderer) for t in texts]
    return [(texts[i].get_text(), texts[j].get_text()) for i in range(len(texts)) for j in range(i + 1, len(texts))
            if _overlap(boxes[i], boxes[j]) and _polygons_overlap(polys[i], polys[j])]


def tight_layout(fig, **kwargs) -> None:
    """``fig.tight_layout`` that makes room for the panel letters: lay out, place the letters, lay out again
    (the letters are part of their axes' extent), place them again."""
    fig.tight_layout(**kwargs)
    for _ in range(2):
        fig.canvas.draw()
        place_panel_letters(fig)
        fig.tight_layout(**kwargs)
    fig.canvas.draw()
    place_panel_letters(fig)


def color(key: str) -> str:
    return PALETTE.get(key, "#333333")


def label(key: str) -> str:
    return LABELS.get(key, key)


def save(fig, pdf: str | Path, png: str | Path | None = None) -> None:
    """Save as PDF (and PNG beside it) atomically, then close."""
    pdf = Path(pdf)
    png = Path(png) if png else pdf.with_suffix(".png")
    fig.canvas.draw()
    place_panel_letters(fig)  # for the final layout (also figures not laid out by tight_layout)
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf")
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    plt.close(fig)
