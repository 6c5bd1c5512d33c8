"""Demo: a sphere pressed into a gel pad (quasi-static FEM) against Hertz theory."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots


def run(out: Path, radius: float = 5e-3, depth: float = 2e-4, E: float = 1e5,
        nu: float = 0.3) -> dict:
    from tacsuite.sim.press import press
    from tacsuite.sim.render import draw_pad
    from tacsuite.theory.contact import bonded_layer_force, hertz_force

    a = np.sqrt(radius * depth)
    pad = (20 * a, 20 * a, 10 * a)
    t0 = time.perf_counter()
    res = press("sphere", radius, depth, E=E, nu=nu, pad=pad, mesh_size=a / 3, steps=5,
                growth=1.6, grad=("E", "depth"))
    seconds = time.perf_counter() - t0
    solver = res.info.pop("solver")
    d = np.array([0.0] + res.depths)
    F = np.array([0.0] + res.forces)
    fine = np.linspace(0, depth, 100)
    fig, axes = plots.figure(ncols=3, width=4.6, layout="constrained")
    draw_pad(solver, fig, axes[0, 0], axes[0, 1])
    ax = axes[0, 2]
    ax.plot(fine * 1e3, hertz_force(fine, radius, E, nu) * 1e3, color=plots.PALETTE[0],
            label="Hertz (half-space)")
    ax.plot(fine * 1e3, bonded_layer_force(fine, radius, E, nu, pad[2]) * 1e3, ls="--",
            color=plots.PALETTE[1], label="bonded layer (Dimitriadis 2002)")
    ax.plot(d * 1e3, F * 1e3, "o", color=plots.PALETTE[2],
            label=f"FEM ({4 * res.info['n_tets_quarter']} tets)")
    ax.set_xlabel("depth (mm)")
    ax.set_ylabel("normal force (mN)")
    ax.set_title("force vs depth")
    ax.legend(fontsize=8)
    fig.suptitle(f"sphere R = {radius * 1e3:g} mm into a {pad[2] * 1e3:g} mm pad, "
                 f"E = {E / 1e3:g} kPa, nu = {nu}")
    atomic.savefig(Path(out) / "sim_press.png", fig)
    plots.close(fig)
    hz = float(hertz_force(depth, radius, E, nu))
    return {"png": "sim_press.png", "force_N": res.force, "hertz_force_N": hz,
            "force_over_hertz": res.force / hz, "contact_radius_m": res.contact_radius,
            "dF_dE": res.grad["E"], "dF_ddepth": res.grad["depth"], "seconds": seconds}
