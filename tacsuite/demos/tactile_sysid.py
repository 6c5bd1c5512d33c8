"""Demo: a sphere presses into a gel pad and slides; the sensor's tactile image, its
marker field, and an identification of the gel's stiffness from the noisy read-outs.

The image is the three-light shader of `tacsuite.sim.optics` on the deformed gel; the
arrows are the markers' image-plane displacement (pinhole camera under the gel). The
fit starts from twice the true E and runs L-BFGS through the simulator's reverse pass.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots

TRUE_E = 1e5


def run(out: Path) -> dict:
    import torch

    from tacsuite.sim import optics, sysid

    t0 = time.perf_counter()
    rig = sysid.Rig()
    ro = rig.readout
    a = sysid.motion_actions("slide", rig.cfg)
    with torch.no_grad():
        x = rig.states_fn(["E"])(torch.as_tensor(a), torch.tensor(TRUE_E))
        img = optics.to_uint8(optics.render(ro, x[-1:]))[0]
        flow = ro.marker_flow(x[-1:])[0].numpy()
    obs = sysid.synth({"E": TRUE_E}, "slide", 0.01, 0, rig=rig)
    res = sysid.fit(obs, ["E"], {"E": 2 * TRUE_E}, budget=16, rig=rig)
    seconds = time.perf_counter() - t0

    fig, axes = plots.figure(ncols=3, width=4.2, height=3.6, layout="constrained")
    ax = axes[0, 0]
    ext = [ro.xs[0] * 1e3, ro.xs[-1] * 1e3, ro.ys[0] * 1e3, ro.ys[-1] * 1e3]
    ax.imshow(img, origin="lower", extent=ext)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title("tactile image after the slide", fontsize=10)
    ax = axes[0, 1]
    m = ro.marker_rest_xy * 1e3
    q = ax.quiver(m[:, 0], m[:, 1], flow[:, 0], flow[:, 1], np.linalg.norm(flow, axis=1),
                  angles="xy", cmap="viridis", scale_units="xy",
                  scale=1.5 * np.abs(flow).max() / (m[1, 0] - m[0, 0]))
    fig.colorbar(q, ax=ax, label="displacement (px)")
    ax.set_aspect("equal")
    ax.margins(0.12)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title("marker field (slide along +x)", fontsize=10)
    ax = axes[0, 2]
    calls = [r["calls"] for r in res["trace"]]
    ax.plot(calls, [r["params"][0] / 1e3 for r in res["trace"]], "o-", ms=3,
            color=plots.PALETTE[0], label="fitted E")
    ax.axhline(TRUE_E / 1e3, color="k", ls="--", lw=1, label="true E")
    ax.set_xlabel("simulator calls")
    ax.set_ylabel("E (kPa)")
    ax.set_title("identification from 1 % noise", fontsize=10)
    ax.legend(fontsize=8)
    atomic.savefig(Path(out) / "tactile_sysid.png", fig)
    plots.close(fig)
    return {"png": "tactile_sysid.png", "true_E": TRUE_E, "fitted_E": res["fitted"]["E"],
            "stderr_E": res["stderr"]["E"], "sim_calls": res["sim_calls"],
            "max_marker_px": float(np.abs(flow).max()), "seconds": seconds}
