"""One look for every figure: palette per model/method, style, panel letters, saving PDF + PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from presyn.io import atomic_path  # noqa: E402

# Colours (issue 30): Okabe & Ito's colour-blind-safe set, ONE meaning per colour across every figure.
#   blue            #0072B2  the presynaptic model (its curves, its synapses after learning, its true connectivity)
#   orange          #E69F00  the fixed-p control (every synapse at one release probability)
#   grey            #8C8C8C  the control without the mechanism: standard / deterministic network, no consolidation
#   light grey      #C8C8C8  reference states and nulls: before learning, shuffled connectivity, random lesion order,
#                            shuffle null
#   sky blue        #56B4E9  low-p synapses (p < 0.9), and the lesion that removes them first
#   reddish purple  #CC79A7  high-p synapses (p >= 0.9), frozen synapses
#   bluish green    #009E73  BGD (Bayesian gradient descent)
#   vermillion      #D55E00  EWC (elastic weight consolidation)
#   black           #000000  references and measured data: joint-training bound, fits, Sjöström recordings
#                            (LTP filled, LTD open markers)
# Ablation variants (Fig 5a) are not told apart by colour but named on the axis (all variants of the presynaptic
# model: blue; the ghost controls orange, being fixed-p models).
BLUE, ORANGE, GREY, LIGHT_GREY = "#0072B2", "#E69F00", "#8C8C8C", "#C8C8C8"
SKY_BLUE, PURPLE, GREEN, VERMILLION, BLACK = "#56B4E9", "#CC79A7", "#009E73", "#D55E00", "#000000"
PALETTE = {
    "presyn": BLUE,
    "after": BLUE,
    "true": BLUE,
    "presyn-uniform": BLUE,
    "ablation-full": BLUE,
    "fixedp": ORANGE,
    "ablation-fixedP": ORANGE,
    "ablation-fixedPfixedNorm": ORANGE,
    "deterministic": GREY,
    "no_consolidation": GREY,
    "standard": GREY,
    "before": LIGHT_GREY,
    "shuffled": LIGHT_GREY,
    "random": LIGHT_GREY,
    "random_mean": LIGHT_GREY,
    "low_p": SKY_BLUE,
    "lowp_first": SKY_BLUE,
    "high_p": PURPLE,
    "frozen": PURPLE,
    "bgd": GREEN,
    "ewc": VERMILLION,
    "joint": BLACK,
    "ltp": BLACK,
    "ltd": BLACK,
    "all": BLACK,
    "fit": BLACK,
    "ablation-noFreeze": BLUE,
    "ablation-noFreezeNoMod": BLUE,
    "ablation-noMod": BLUE,
    "ablation-noNorm": BLUE,
}

LABELS = {
    "presyn": "Presynaptic",
    "deterministic": "Standard",
    "fixedp": "Fixed p",
    "no_consolidation": "No consolidation",
    "bgd": "BGD",
    "ewc": "EWC",
    "joint": "Joint training",
    "high_p": "high p (p \u2265 0.9)",
    "low_p": "low p (p < 0.9)",
    "lowp_first": "lowest p first",
    "random": "random order",
    "random_mean": "random order",
    "before": "before learning",
    "after": "after learning",
    "presyn-uniform": "Presynaptic, uniform initial p",
    "standard": "Standard",
    "true": "true connectivity",
    "shuffled": "shuffled connectivity",
    "frozen": "frozen synapses",
    "ltp": "LTP",
    "ltd": "LTD",
}

# Layers (issue 30): one name everywhere. The network is input -> hidden layer 1 -> hidden layer 2 -> output;
# weight matrix l feeds layer l (1: input -> hidden 1, 2: hidden 1 -> hidden 2, 3: hidden 2 -> output).
# Neurons are named by their layer ("hidden layer 2 neurons"), weight matrices by the layer they feed.
LAYER_NAMES = {1: "hidden layer 1", 2: "hidden layer 2", 3: "output layer"}


def layer_name(layer: int) -> str:
    """The layer a weight matrix ``layer`` feeds (the stats' ``layer=<l>``), and the name of its neurons."""
    return LAYER_NAMES.get(int(layer), f"layer {layer}")


# One font scale (points): every text of every figure is one of these sizes.
FONT_SMALL = 7  # tick labels, legends, annotations, stars, notes
FONT_NORMAL = 8  # axis labels, panel titles
FONT_LARGE = 9  # figure title
FONT_LETTER = 10  # panel letters (bold)
FONT_SIZES = (FONT_SMALL, FONT_NORMAL, FONT_LARGE, FONT_LETTER)


def style() -> None:
    sns.set_theme(context="paper", style="ticks")
    plt.rcParams.update(
        {
            "axes.spines.top": False,
            "axes.spines.right": False,
            "pdf.fonttype": 42,
            "savefig.bbox": "tight",
            "figure.dpi": 100,
            "font.size": FONT_NORMAL,
            "axes.labelsize": FONT_NORMAL,
            "axes.titlesize": FONT_NORMAL,
            "xtick.labelsize": FONT_SMALL,
            "ytick.labelsize": FONT_SMALL,
            "legend.fontsize": FONT_SMALL,
            "legend.title_fontsize": FONT_SMALL,
            "figure.titlesize": FONT_LARGE,
            "axes.linewidth": 0.8,
            "lines.linewidth": 1.3,
            "lines.markersize": 4,
            "errorbar.capsize": 2,
        }
    )


def stars(p: float) -> str:
    """Significance marks: *** P < 0.001, ** P < 0.01, * P < 0.05, n.s. otherwise."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "n.s."


def fmt_p(p: float) -> str:
    """A P-value (capital P: lower-case p is the release probability in every figure)."""
    if p is None or not np.isfinite(p):
        return "P = n/a"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}" if p < 0.1 else f"P = {p:.2f}"


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted P-values (same order as given; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    ok = np.flatnonzero(np.isfinite(p))
    out = np.full(p.shape, np.nan)
    order = ok[np.argsort(p[ok])]
    m, running = len(order), 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out


def bracket(ax, x1: float, x2: float, y: float, text: str, h: float | None = None) -> None:
    """A significance bracket from x1 to x2 at height y (data coordinates), its text centred above."""
    lo, hi = ax.get_ylim()
    h = (hi - lo) * 0.02 if h is None else h
    ax.plot([x1, x1, x2, x2], [y - h, y, y, y - h], color="k", lw=0.7, clip_on=False)
    ax.text((x1 + x2) / 2, y, text, ha="center", va="bottom", fontsize=FONT_SMALL)


def sem_note(n, unit: str = "seeds", what: str = "mean \u00b1 SEM") -> str:
    """The error-bar meaning and n, for a panel title or legend: 'mean ± SEM, n = 3 seeds'."""
    try:
        n = int(n)
    except (TypeError, ValueError):
        return what
    return f"{what}, n = {n} {unit}"


NOT_REPRODUCED_PREFIX = "NOT REPRODUCED (see scorecard):"


def mark_not_reproduced(ax, ids) -> None:
    """The marker of a panel whose claim is not reproduced: a first title line 'not reproduced: see scorecard
    <id>[, <id>]' (one style everywhere; above the data, so it hides none; ``ids`` from :func:`not_reproduced`).
    The ids are kept on the axes (``ax.not_reproduced``) for tests."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return
    ax.not_reproduced = ids
    title = ax.get_title()
    import textwrap

    size = ax.title.get_fontsize()
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72  # wrapped to the panel's width
    import os

    what = ids[0] if len(ids) == 1 else f"{len(ids)} items {os.path.commonprefix(ids).rstrip('._')}*"
    lines = textwrap.wrap(
        f"{NOT_REPRODUCED_PREFIX} {what}",
        width=max(20, int(width_pt / (0.62 * size))),
        break_on_hyphens=False,
        break_long_words=False,
    )
    ax.set_title("\n".join(lines) + (f"\n{title}" if title else ""), fontsize=ax.title.get_fontsize())


def not_reproduced(figure: str, stats_df, published, panels: dict[str, str]) -> dict[str, list[str]]:
    """Panel letter -> ids of the scorecard items of ``figure`` (current tests, not repeats or superseded ones)
    that the scorecard's own judging (presyn.scorecard) finds not reproduced on ``stats_df``. ``published``: the
    path of config/published.yaml or its loaded dict; ``panels``: item id -> panel letter (an id not listed marks
    nothing). The figure is drawn before the scorecard exists (the DAG runs stats -> figures -> scorecard): this
    judges the figure's own stats rows with the same function, never reads results/reproduction.csv."""
    if published is None or stats_df is None:
        return {}
    from presyn import scorecard

    pub = scorecard.load_published(published) if not isinstance(published, dict) else published
    items = {
        "tolerances": pub.get("tolerances") or {},
        "numbers": [it for it in pub.get("numbers") or [] if it.get("figure") == figure and it["id"] in panels],
        "claims": [it for it in pub.get("claims") or [] if it.get("figure") == figure and it["id"] in panels],
    }
    card = scorecard.scorecard(items, stats_df)
    out: dict[str, list[str]] = {}
    for _, r in card.iterrows():
        if r["verdict"] == scorecard.NOT_REPRODUCED and r.get("status", "current") in ("current", "", None):
            out.setdefault(panels[r["id"]], []).append(r["id"])
    return out


def mark_panels(fig, axes: dict, marks: dict[str, list[str]]) -> None:
    """Put :func:`mark_not_reproduced` on each panel (letter -> axes) that ``marks`` names."""
    for letter, ids in marks.items():
        if letter in axes:
            mark_not_reproduced(axes[letter], ids)


def legends_outside(fig) -> list[str]:
    """Texts of legends whose box reaches outside their axes (after a draw)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not leg.get_visible():
            continue
        b, a = leg.get_window_extent(r), ax.bbox
        if b.x0 < a.x0 - 1 or b.x1 > a.x1 + 1 or b.y0 < a.y0 - 1 or b.y1 > a.y1 + 1:
            out.append(" / ".join(t.get_text() for t in leg.get_texts()))
    return out


def font_sizes(fig) -> set[float]:
    """The font sizes of every drawn text of ``fig``."""
    fig.canvas.draw()
    return {round(t.get_fontsize(), 2) for t in text_artists(fig)}


PANEL_LETTER_GID = "panel-letter"
LETTER_PAD_PT = 3.0  # gap (points) between a panel letter and what it clears


def panel_letter(ax, letter: str) -> None:
    """Mark ``ax`` with a bold panel letter. Where it goes is decided once the figure is laid out
    (:func:`place_panel_letters`, run by :func:`tight_layout` and :func:`save`): at the panel's left edge (its
    y label or tick labels included), level with the top of the axes, raised above anything it would cover."""
    ax.text(
        -0.15,
        1.05,
        letter,
        transform=ax.transAxes,
        fontsize=FONT_LETTER,
        fontweight="bold",
        va="bottom",
        ha="left",
        gid=PANEL_LETTER_GID,
    )


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
        if (
            ax.get_visible()
            and ax.axison
            and ax is not own.axes
            and ax.get_position().bounds != own.axes.get_position().bounds
        ):
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
    for t, left, _y, obstacles in spots:  # one height per row of panels
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
    return [
        (texts[i].get_text(), texts[j].get_text())
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if _overlap(boxes[i], boxes[j]) and _polygons_overlap(polys[i], polys[j])
    ]


FOOTNOTE_GID = "footnote"


def footnote(fig, text: str) -> None:
    """A caption line under the panels (small, left-aligned): what a figure's reader must know that no panel
    shows (e.g. the spread over runs of a one-run statistic). ``tight_layout`` keeps a strip for it."""
    import textwrap

    width = int(0.98 * fig.get_figwidth() * 72 / (0.55 * FONT_SMALL))  # characters per line at the figure's width
    fig.text(
        0.01,
        0.01,
        "\n".join(textwrap.wrap(text, width=width, break_on_hyphens=False)),
        fontsize=FONT_SMALL,
        ha="left",
        va="bottom",
        gid=FOOTNOTE_GID,
    )


def tight_layout(fig, **kwargs) -> None:
    """``fig.tight_layout`` that makes room for the panel letters: lay out, place the letters, lay out again
    (the letters are part of their axes' extent), place them again. A suptitle gets its own strip at the top (the
    panels' titles, e.g. a 'not reproduced' line, ran into it), a ``footnote`` its own at the bottom."""
    notes = [t for t in fig.texts if t.get_gid() == FOOTNOTE_GID and t.get_text()]
    if "rect" not in kwargs and ((fig._suptitle is not None and fig._suptitle.get_text()) or notes):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        top = (
            fig._suptitle.get_window_extent(renderer).height / fig.bbox.height
            if fig._suptitle is not None and fig._suptitle.get_text()
            else 0.0
        )
        bottom = max((t.get_window_extent(renderer).height / fig.bbox.height for t in notes), default=0.0)
        kwargs["rect"] = (0, 1.4 * bottom + (0.01 if notes else 0.0), 1, 1 - 1.6 * top)
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
