"""Pictures of a deformed pad (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots


def _mirror(points, values, planes):
    pts, vals = [points], [values]
    for axis in planes:
        q = [p.copy() for p in pts]
        for p in q:
            p[:, axis] *= -1
        pts += q
        vals += vals
    return np.concatenate(pts), np.concatenate(vals)


def save_pad_image(solver, path, title: str = "") -> Path:
    """Top view of the vertical surface displacement and a side section of the pad."""
    fig, axes = plots.figure(ncols=2, width=5.5, layout="constrained")  # suptitle clear
    draw_pad(solver, fig, axes[0, 0], axes[0, 1])
    if title:
        fig.suptitle(title)
    path = Path(path)
    atomic.savefig(path, fig)
    plots.close(fig)
    return path


def draw_pad(solver, fig, ax_top, ax_section) -> None:
    """Draw the deformed pad of a quasi-static solver into two axes."""
    X = solver.X.to_numpy().astype(float)
    x = solver.x.to_numpy().astype(float)
    u = x - X
    top = np.abs(X[:, 2] - X[:, 2].max()) < 1e-12
    planes = getattr(solver, "symmetry_planes", ())
    P, uz = _mirror(X[top], u[top, 2], planes)
    ax = ax_top
    tc = ax.tricontourf(P[:, 0] * 1e3, P[:, 1] * 1e3, uz * 1e6, levels=24, cmap="viridis")
    fig.colorbar(tc, ax=ax, label="vertical displacement (um)")
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title("top surface")
    ax = ax_section
    sec = np.abs(X[:, 1] - X[:, 1].min()) < 1e-12
    Sx, uzs = _mirror(x[sec], u[sec, 2], (0,) if 0 in planes else ())
    ax.scatter(Sx[:, 0] * 1e3, Sx[:, 2] * 1e3, s=3, c=uzs * 1e6, cmap="viridis")
    moved = np.abs(u[top, 2]) > 0.1 * np.abs(u[top, 2]).max()
    if np.any(moved):
        span = 2e3 * np.abs(X[top][moved][:, :2]).max()
        for a in (ax_top, ax):
            a.set_xlim(-span, span)
        ax_top.set_ylim(-span, span)
        ztop = 1e3 * X[:, 2].max()
        ax.set_ylim(ztop - span, ztop + 0.1 * span)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("z (mm)")
    ax.set_title("deformed section y = 0 (nodes)")
