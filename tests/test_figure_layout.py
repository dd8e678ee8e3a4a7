"""Figure layout (issue 19, point 5): panel letters clear of axis labels, tick labels and titles; no two texts
of a figure overlap. Judged on the drawn figure (window extents from the Agg renderer), for hand-made
layouts and for figure modules drawn from small synthetic stats tables shaped like the pipeline's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from presyn import plotting


@pytest.fixture
def drawn(monkeypatch):
    """Figures passed to plotting.save (saved as usual, then kept for inspection)."""
    figs = []
    real = plotting.save

    def keep(fig, pdf, png=None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        real(fig, pdf, png)
        FigureCanvasAgg(fig)  # closing detached the pyplot canvas; an Agg one draws it again, same layout
        figs.append(fig)

    monkeypatch.setattr(plotting, "save", keep)
    return figs


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def assert_letters_clear(fig, letters: str) -> None:
    """Each panel letter is there once, above its axes, and its box meets no y label, tick label, title or other
    text of any axes; the letters of one row of panels share a height."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    found = plotting.panel_letters(fig)
    assert sorted(t.get_text() for t in found) == sorted(letters)
    for t in found:
        box = t.get_window_extent(r)
        assert box.y0 >= t.axes.bbox.y1 - 0.5, f"panel letter {t.get_text()} reaches into its axes"
        for ax in fig.axes:
            if ax.axison:
                assert not overlaps(box, ax.yaxis.label.get_window_extent(r)), (
                    f"panel letter {t.get_text()} overlaps the y label {ax.yaxis.label.get_text()!r}"
                )
    assert plotting.letter_collisions(fig) == []
    for t in found:
        row = [u for u in found if abs(u.axes.bbox.y1 - t.axes.bbox.y1) < 1]
        assert {round(u.get_window_extent(r).y0) for u in row} == {round(t.get_window_extent(r).y0)}


@pytest.mark.parametrize("layout", ["long_ylabels", "titles_2x2", "twin_and_off"])
def test_panel_letters_clear_labels(tmp_path, drawn, layout):
    import matplotlib.pyplot as plt

    plotting.style()
    if layout == "long_ylabels":  # Fig 1's defect: a y label as tall as the axes, the letter sat on it
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.0))
        for ax, lab in zip(axes, ("mutual information I(Y; Z) between label and output (bits)", "best MI per energy")):
            ax.plot([0, 1], [1000, 3000])
            ax.set_ylabel(lab)
    elif layout == "titles_2x2":  # wide, two-line titles and legends at the top
        fig, axes = plt.subplots(2, 2, figsize=(8, 6))
        for ax in axes.ravel():
            ax.plot(np.arange(5), np.arange(5) ** 2, label="a line")
            ax.set_title(
                "a rather long title over the panel that reaches\npast the axes on both sides, twice", fontsize=8
            )
            ax.set_ylabel("fraction of synapses in group")
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)
        axes = axes.ravel()
    else:  # a twin y axis, and a panel switched off (a "not run" panel)
        fig, axes = plt.subplots(1, 2, figsize=(8, 3))
        axes[0].plot([0, 1], [0, 1])
        axes[0].set_ylabel("mean release probability")
        axes[0].twinx().set_ylabel("frozen synapses (%)")
        axes[1].text(0.5, 0.5, "not run", transform=axes[1].transAxes)
        axes[1].set_axis_off()
    for ax, letter in zip(axes, "abcd"):
        plotting.panel_letter(ax, letter)
    plotting.tight_layout(fig)
    plotting.save(fig, tmp_path / "f.pdf")
    assert_letters_clear(fig, "abcd"[: len(axes)])
    assert (tmp_path / "f.pdf").stat().st_size > 0 and (tmp_path / "f.png").stat().st_size > 0


def fig1_stats() -> pd.DataFrame:
    """Fig 1's stats rows at the scale of the full protocol (energies 6e2 .. 7e3, MI 1.3 .. 3.1 bits)."""
    rows = []
    wds = (0, 0.001, 0.005, 0.01, 0.05, 0.1)
    for m, (e0, mi0) in {"deterministic": (5800, 3.13), "fixedp": (6400, 2.9), "presyn": (5400, 3.08)}.items():
        for k, wd in enumerate(wds):
            g = f"model={m};wd={wd:g}"
            rows += [
                dict(
                    name=f"fig1.mutual_information.{m}.wd{wd:g}",
                    kind="summary",
                    value=mi0 - 0.3 * k,
                    sem=0.005,
                    groups=g,
                ),
                dict(name=f"fig1.synaptic_energy.{m}.wd{wd:g}", kind="summary", value=e0 / 1.6**k, sem=3.0, groups=g),
            ]
        rows.append(
            dict(
                name=f"fig1.best_mi_per_energy.{m}",
                kind="summary",
                value=mi0 / e0 * 5,
                sem=1e-5,
                groups=f"model={m};wd=0.05",
            )
        )
    for m in ("deterministic", "fixedp"):
        rows.append(
            dict(
                name=f"fig1.best_mi_per_energy.presyn_vs_{m}",
                kind="test",
                value=1e-3,
                sem=np.nan,
                p_value=1e-4,
                groups=f"presyn vs {m}",
            )
        )
    return pd.DataFrame(rows).assign(figure="fig1", n=3)


def test_fig1_letters_clear_y_labels_and_ticks_do_not_collide(tmp_path, drawn):
    from presyn.figures import fig1

    fig1.draw(fig1_stats(), str(tmp_path / "fig1.pdf"), str(tmp_path / "fig1.png"), " [QUICK config: toy size]")
    (fig,) = drawn
    assert_letters_clear(fig, "ab")
    # the energy axis spans about one decade: its labels (formerly every minor tick, 3x10^3 on 4x10^3) stay apart
    assert plotting.text_collisions(fig) == []
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_visible() and t.get_text()]
    assert len(labels) >= 2


def test_perceptron_capacity_and_appfig4_layout(tmp_path, drawn):
    from presyn.analysis.capacity import FIGURE
    from presyn.figures import appfig4, perceptron_capacity

    rows = []
    for n, load in ((100, 0.25), (200, 0.5), (400, 1)):
        for m, v in (("presyn", 0.9 - n / 2000), ("standard", 0.88 - n / 3000)):
            rows.append(
                dict(
                    name=f"{FIGURE}.final.{m}.patterns{n}",
                    kind="summary",
                    value=v,
                    sem=0.003,
                    p_value=np.nan,
                    groups=f"method={m};model={m};n_patterns={n};load={load:g}",
                )
            )
        rows.append(
            dict(
                name=f"{FIGURE}.gap.patterns{n}",
                kind="summary",
                value=0.02 - n / 6000,
                sem=0.004,
                p_value=np.nan,
                groups=f"a=presyn;b=standard;n_patterns={n};load={load:g}",
            )
        )
    rows.append(
        dict(name=f"{FIGURE}.gap_change", kind="test", value=-0.067, sem=np.nan, p_value=1.4e-10, groups="a=x;b=y")
    )
    perceptron_capacity.draw(pd.DataFrame(rows), str(tmp_path / "cap.pdf"), str(tmp_path / "cap.png"))

    rng = np.random.default_rng(0)
    rec = pd.DataFrame(
        {
            "P_before": rng.uniform(0.05, 0.95, 44),
            "rel_change_size": rng.uniform(0, 2, 44),
            "group": ["ltp"] * 30 + ["ltd"] * 14,
        }
    )
    st = pd.DataFrame(
        [
            dict(name="appfig4.regression.slope", value=-0.9, p_value=np.nan),
            dict(name="appfig4.regression.intercept", value=0.97, p_value=np.nan),
        ]
        + [dict(name=f"appfig4.pearson.{k}", value=-0.44, p_value=0.003) for k in ("all", "ltp", "ltd")]
    )
    appfig4.draw(rec, st, str(tmp_path / "a4.pdf"), str(tmp_path / "a4.png"))

    cap, a4 = drawn
    assert_letters_clear(cap, "ab")
    for fig in (cap, a4):
        assert plotting.text_collisions(fig) == []


def test_fig4_layout(tmp_path, drawn):
    """Fig 4: the letters (a over an image panel) line up and clear the task captions; the method names under
    the bars of c (once slanted into each other) and the joint-training legend collide with nothing."""
    from presyn.figures import fig4

    rng = np.random.default_rng(0)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_test=rng.integers(0, 255, (40, 784), dtype=np.uint8), y_test=np.tile(np.arange(10), 4))
    rows = []
    for m, acc in (("presyn", 0.97), ("no_consolidation", 0.9)):
        for e in range(1, 51):
            rows.append(
                dict(
                    name=f"fig4.task1_accuracy.{m}.e{e}",
                    kind="summary",
                    value=acc - e / 500,
                    sem=0.01,
                    groups=f"benchmark=split_mnist;method={m};epoch={e}",
                )
            )
    for m, v in (("presyn", 0.83), ("no_consolidation", 0.78), ("bgd", 0.80), ("ewc", 0.70), ("joint", 0.985)):
        rows.append(
            dict(
                name=f"fig4.final_mean_accuracy.split_mnist.{m}",
                kind="summary",
                value=v,
                sem=0.01,
                groups=f"benchmark=split_mnist;method={m}",
            )
        )
        if m != "presyn":
            rows.append(
                dict(
                    name=f"fig4.ttest.split_mnist.presyn_vs_{m}",
                    kind="test",
                    value=0.05,
                    sem=np.nan,
                    p_value=0.004,
                    groups=f"benchmark=split_mnist;a=presyn;b={m}",
                )
            )
    fig4.draw(
        pd.DataFrame(rows).assign(n=3),
        str(npz),
        str(tmp_path / "fig4.pdf"),
        str(tmp_path / "fig4.png"),
        10,
        " [QUICK config: toy size, not the paper's protocol]",
    )
    (fig,) = drawn
    assert_letters_clear(fig, "abc")
    assert plotting.text_collisions(fig) == []
    # no floating legend: every legend inside its axes; the joint-training bound is written in panel c
    assert plotting.legends_outside(fig) == []
    assert "joint training" in fig.axes[-1].get_title()
    assert_one_font_scale(fig)


def assert_one_font_scale(fig) -> None:
    """Every drawn text is one of the sizes of plotting's one font scale."""
    assert plotting.font_sizes(fig) <= set(plotting.FONT_SIZES), plotting.font_sizes(fig)


def test_fig1_checks(tmp_path, drawn):
    """Fig 1: one font scale, legends inside the axes, n stated in every panel with error bars."""
    from presyn.figures import fig1

    fig1.draw(fig1_stats(), str(tmp_path / "fig1.pdf"), str(tmp_path / "fig1.png"))
    (fig,) = drawn
    assert_one_font_scale(fig)
    assert plotting.legends_outside(fig) == []
    for ax in fig.axes:
        assert "n = 3" in ax.get_title()


def test_p_histogram_bins_on_the_value_grid(tmp_path, drawn):
    """Fig 2a: the p histogram is drawn at the values p takes (0.25 + k 0.07, and 1), whatever the table's bins."""
    from presyn.figures import fig2

    edges = np.linspace(0, 1, 41)
    values = {0.25: 0.6, 0.32: 0.05, 0.30: 0.001, 0.95: 0.0005, 1.0: 0.3485}  # 0.30 = 1 - 10 x 0.07
    frac = np.zeros(40)
    for v, f in values.items():
        frac[min(np.searchsorted(edges, v, side="right") - 1, 39)] += f
    before = np.zeros(40)
    before[10] = 1.0
    hist = pd.concat(
        [
            pd.DataFrame(
                {
                    "panel": "p",
                    "group": g,
                    "bin_left": edges[:-1],
                    "bin_right": edges[1:],
                    "count": (f * 1000).astype(int),
                    "fraction": f,
                    "n": 1000,
                    "log_x": False,
                }
            )
            for g, f in (("after", frac), ("before", before))
        ]
    )
    x, f = fig2.p_grid(hist[hist["group"] == "after"])
    k = (x[:-1] - 0.25) / fig2.P_STEP
    assert np.allclose(k, np.round(k)) and x[-1] == 1.0
    assert np.isclose(f.sum(), 1.0) and np.isclose(f[-1], 0.3485) and np.isclose(f[1], 0.051)
    import matplotlib.pyplot as plt

    plotting.style()
    fig, ax = plt.subplots()
    fig2.draw_p_hist(ax, hist, "p", None)
    for line in ax.get_lines():
        if line.get_gid() == "p-hist":
            xs = np.asarray(line.get_xdata(), float)
            on = np.isclose(xs, 1.0) | np.isclose((xs - 0.25) / fig2.P_STEP, np.round((xs - 0.25) / fig2.P_STEP))
            assert on.all(), xs
    # a uniform initial p stays flat on the grid
    uni = pd.DataFrame(
        {"bin_left": edges[:-1], "bin_right": edges[1:], "fraction": np.where(edges[:-1] >= 0.25, 1 / 30, 0)}
    )
    _, fu = fig2.p_grid(uni, continuous=True)
    assert np.allclose(fu, fu[0], rtol=0.02)
    plt.close(fig)


def test_holm():
    assert np.allclose(plotting.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert np.isnan(plotting.holm([np.nan, 0.01])[0])


def test_not_reproduced_marker(tmp_path, drawn):
    """Point 3: a panel whose scorecard item the scorecard's own judging finds not reproduced carries the marker,
    judged from the figure's stats rows (config/published.yaml), never from results/reproduction.csv."""
    from presyn.figures import fig1

    pub = {
        "tolerances": {},
        "numbers": [],
        "claims": [
            {
                "id": "fig1.test_claim",
                "figure": "fig1",
                "claim": "presyn better",
                "basis": "paper",
                "check": {
                    "left": "fig1.best_mi_per_energy.fixedp",
                    "op": ">",
                    "right": "fig1.best_mi_per_energy.presyn",
                },
            }
        ],
    }
    st = fig1_stats()
    marks = plotting.not_reproduced("fig1", st, pub, {"fig1.test_claim": "b"})
    assert marks == {"b": ["fig1.test_claim"]}
    fig1.PANELS["fig1.test_claim"] = "b"
    try:
        fig1.draw(st, str(tmp_path / "f.pdf"), str(tmp_path / "f.png"), published=pub)
    finally:
        del fig1.PANELS["fig1.test_claim"]
    (fig,) = drawn
    ax_b = fig.axes[1]
    assert ax_b.not_reproduced == ["fig1.test_claim"] and ax_b.get_title().startswith("NOT REPRODUCED")
    assert "NOT REPRODUCED" not in fig.axes[0].get_title()
    assert plotting.text_collisions(fig) == []
