"""Matplotlib helpers (Agg backend, colour-blind palette, curves with CI bands)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tacsuite.common import stats  # noqa: E402

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6,
           layout: str | None = None):
    """A grid of axes. `layout="constrained"` keeps titles, suptitles, colorbars and
    outside legends from colliding (then do not call tight_layout or subplots_adjust)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, layout=layout)
    return fig, axes


def series_style(i: int, n: int) -> dict:
    """Line style of series i of n compared in one axes: its own colour and marker, and
    the earlier the series the wider and lower it is drawn, so curves that coincide stay
    visible as nested lines instead of hiding one another."""
    wider = n - 1 - i
    return dict(color=PALETTE[i % len(PALETTE)], marker=MARKERS[i % len(MARKERS)],
                lw=1.4 + 1.6 * wider, ms=4 + 2.5 * wider, zorder=3 + i)


def reference_line(ax, x, y, label: str, color: str = "k", ls: str = "--") -> None:
    """An exact reference drawn thin and on top, so a curve that meets it shows around it."""
    ax.plot(x, y, color=color, ls=ls, lw=1.0, zorder=10, label=label)


def legend_below(fig, ncol: int = 1, **kw) -> None:
    """One legend for every labelled artist of the figure, under the axes, never over the
    data or a label (needs `figure(layout="constrained")`, which makes room for it)."""
    fig.legend(loc="outside lower center", ncol=ncol, frameon=False, **{"fontsize": 8, **kw})


def iqm_band(ax, x, curves, label: str, color: str | None = None, reps: int = 300,
             **style) -> None:
    """Plot the pointwise IQM of `curves` (runs, points) with its 95% bootstrap band;
    `style` (e.g. `series_style(i, n)`) goes to the line."""
    mid, lo, hi = stats.iqm_curve(curves, reps=reps)
    n = np.asarray(curves).shape[0]
    style = {"color": color, **style}
    line, = ax.plot(x, mid, label=f"{label} (IQM, n={n})", **style)
    ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color(), linewidth=0,
                    zorder=line.get_zorder() - 0.5)


def close(fig) -> None:
    plt.close(fig)


def text_overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of text elements (suptitle, titles, axis labels, legends, texts placed in the
    axes) whose drawn boxes overlap: the collisions a reader cannot read through."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    items: list[tuple[str, object]] = []
    if fig._suptitle is not None:
        items.append(("suptitle", fig._suptitle))
    items += [(f"figure legend {i}", leg) for i, leg in enumerate(fig.legends)]
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison and not ax.get_title():
            continue
        items += [(f"axes {k} title", ax.title), (f"axes {k} xlabel", ax.xaxis.label),
                  (f"axes {k} ylabel", ax.yaxis.label)]
        items += [(f"axes {k} text {t.get_text()!r}", t) for t in ax.texts]
        if ax.get_legend() is not None:
            items.append((f"axes {k} legend", ax.get_legend()))
    boxes = []
    for name, artist in items:
        if not artist.get_visible() or (hasattr(artist, "get_text") and not artist.get_text()):
            continue
        box = artist.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((name, box.padded(-1.0)))
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
            if ba.overlaps(bb)]
