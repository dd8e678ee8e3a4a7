"""Issue 30: bundle_check compares every shipped figure with its rebuild, so a changed plotting function fails it."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from presyn import bundle  # noqa: E402


def draw(path: Path, colour: str = "#0072B2", lw: float = 2.0) -> None:
    """A stand-in plotting function: a line and a title, saved as PNG the way figures are."""
    fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
    ax.plot([0, 1, 2], [0, 1, 0.5], color=colour, lw=lw)
    ax.set_title("Fig 9")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def make_bundle(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "results/tables").mkdir(parents=True)
    pd.DataFrame({"x": [1]}).to_csv(run / "results/tables/t.csv", index=False)
    draw(run / "figures/fig9.png")
    (run / "figures/apptable1.md").write_text("| a |\n|---|\n| 1 |\n")
    jobs = pd.DataFrame({"rule": ["train"], "job": ["j"], "wall_s": [1.0], "max_rss_mb": [1.0]})
    out = tmp_path / "bundle"
    bundle.write_bundle(
        out,
        {"table": ["results/tables/t.csv"], "figure": ["figures/fig9.png", "figures/apptable1.md"]},
        {"seeds": [1]},
        jobs,
        root=run,
    )
    return out


def test_same_drawing_passes_changed_drawing_fails_by_name(tmp_path):
    shipped = make_bundle(tmp_path)
    rebuilt = tmp_path / "reviewer"
    draw(rebuilt / "figures/fig9.png")  # today's code draws the same picture (another file, same pixels)
    (rebuilt / "figures/apptable1.md").write_text("| a |\n|---|\n| 1 |\n")
    assert bundle.compare_figures(shipped, rebuilt) == []

    draw(rebuilt / "figures/fig9.png", colour="#D55E00")  # a changed plotting function: another colour
    (diff,) = bundle.compare_figures(shipped, rebuilt)
    assert diff.file == "figures/fig9.png" and diff.column == "pixels" and "of the pixels differ" in str(diff.rebuilt)

    draw(rebuilt / "figures/fig9.png")
    (rebuilt / "figures/apptable1.md").write_text("| a |\n|---|\n| 2 |\n")
    (diff,) = bundle.compare_figures(shipped, rebuilt)
    assert diff.file == "figures/apptable1.md"

    (rebuilt / "figures/apptable1.md").unlink()
    assert [d.column for d in bundle.compare_figures(shipped, rebuilt)] == ["(file)"]


def test_other_matplotlib_allows_a_stated_share_of_pixels(tmp_path, monkeypatch):
    shipped = make_bundle(tmp_path)
    rebuilt = tmp_path / "reviewer"
    (rebuilt / "figures").mkdir(parents=True)
    (rebuilt / "figures/apptable1.md").write_text("| a |\n|---|\n| 1 |\n")
    draw(rebuilt / "figures/fig9.png", lw=2.05)  # a rendering difference of a few edge pixels
    share_differs = bool(bundle.compare_figures(shipped, rebuilt))
    monkeypatch.setattr(matplotlib, "__version__", "0.0-other")
    monkeypatch.setattr(bundle, "FIGURE_TOLERANCE", 0.5)
    assert share_differs and bundle.compare_figures(shipped, rebuilt) == []
