"""Figure layout: the shared helpers keep texts apart and coinciding curves visible."""

from __future__ import annotations

import numpy as np

from tacsuite.common import atomic, plots


def _maze_with_routes(ax):
    from tacsuite.demos.stitching import _draw_maze

    _draw_maze(ax)  # writes the S, M, G cell labels
    ax.plot([], [], label="dataset: start -> midpoint (return 0)")
    ax.plot([], [], label="dataset: detour (best return 23)")
    ax.set_title("offline data: no episode takes S -> M -> G")


def test_a_legend_in_the_axes_covers_a_label_and_legend_below_does_not():
    fig, axes = plots.figure(ncols=2, width=5.2, height=3.8)
    _maze_with_routes(axes[0, 0])
    axes[0, 0].legend(fontsize=7, loc="upper right")  # the stitching demo's old legend
    assert any("'S'" in a + b for a, b in plots.text_overlaps(fig))
    plots.close(fig)
    fig, axes = plots.figure(ncols=2, width=5.2, height=3.8, layout="constrained")
    _maze_with_routes(axes[0, 0])
    plots.legend_below(fig, fontsize=7)
    assert plots.text_overlaps(fig) == []
    plots.close(fig)


def test_suptitle_clears_the_titles_with_the_constrained_layout():
    for layout, collides in ((None, True), ("constrained", False)):
        fig, axes = plots.figure(ncols=2, width=5.5, layout=layout)
        for ax in axes[0]:
            ax.set_title("top surface")
        fig.suptitle("sphere R=0.005 m, depth=0.0003 m, F=0.0712 N")
        assert bool(plots.text_overlaps(fig)) == collides
        plots.close(fig)


def test_series_styles_nest_earlier_series_under_later_ones():
    styles = [plots.series_style(i, 3) for i in range(3)]
    assert [s["lw"] for s in styles] == sorted((s["lw"] for s in styles), reverse=True)
    assert [s["zorder"] for s in styles] == sorted(s["zorder"] for s in styles)
    assert len({s["marker"] for s in styles}) == len({s["color"] for s in styles}) == 3


def test_demo_and_reproduction_figures_have_no_colliding_texts(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    from tacsuite.demos import lsd, river_swim, robust

    figures = []
    save = atomic.savefig
    monkeypatch.setattr(atomic, "savefig", lambda path, fig: (figures.append(fig),
                                                              save(path, fig)))
    monkeypatch.setattr(plots, "close", lambda fig: None)
    river_swim.run(tmp_path, steps=200)
    robust.run(tmp_path, episodes=5, seeds=1)
    lsd.run(tmp_path, instances=2, horizon=40)
    script = Path(__file__).resolve().parents[2] / "scripts" / "reproduce_dr_rpo.py"
    spec = importlib.util.spec_from_file_location("reproduce_dr_rpo", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = ["a", "b"]
    iqm = {n: {"iqm": 1.0, "ci_low": 0.5, "ci_high": 1.5} for n in names}
    part = {a: {"scores": [[1.0, 1.0]], "iqm": iqm} for a in mod.ALGOS}
    q = [0.0, 0.5, 1.0]
    mod.plot({"linear": {"q": q, "rho": 0.5, "episodes": 20,
                         "robust_optimal_policy_value": dict(zip("abc", q, strict=True)),
                         "dr_rpo_average_suboptimality_loglog_slope": -0.5,
                         "_curves": {"values": {a: np.ones((3, 3)).tolist() for a in mod.ALGOS},
                                     "avg_subopt": np.ones((3, 20)).tolist()}},
              "put": part, "cartpole": part}, tmp_path)
    assert len(figures) == 4
    for fig in figures:
        assert plots.text_overlaps(fig) == [], fig.axes[0].get_title()
