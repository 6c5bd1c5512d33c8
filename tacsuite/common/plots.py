"""Matplotlib helpers (Agg backend, colour-blind palette, curves with CI bands)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tacsuite.common import stats  # noqa: E402

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000"]


def figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False)
    return fig, axes


def iqm_band(ax, x, curves, label: str, color: str | None = None, reps: int = 300) -> None:
    """Plot the pointwise IQM of `curves` (runs, points) with its 95% bootstrap band."""
    mid, lo, hi = stats.iqm_curve(curves, reps=reps)
    n = np.asarray(curves).shape[0]
    line, = ax.plot(x, mid, label=f"{label} (IQM, n={n})", color=color)
    ax.fill_between(x, lo, hi, alpha=0.25, color=line.get_color(), linewidth=0)


def close(fig) -> None:
    plt.close(fig)
