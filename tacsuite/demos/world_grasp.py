"""Demo: two gel fingertips squeeze a free cube off the ground and hold it up.

One batch of two environments runs the shipped `two_finger_cube` scene: friction
mu = 0.8 (2 mu F_n well above the weight: the cube rises with the fingers) and mu = 0.005
(below it: the cube slips out and stays on the ground).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots

MUS = (0.8, 0.005)


def run(out: Path) -> dict:
    from tacsuite.sim.readout import pair_wrench
    from tacsuite.sim.scene import actions_at, build, example_scenes, load_scene, n_steps

    sc = load_scene(example_scenes()["two_finger_cube"])
    sc["batch"] = 2
    for c in sc["contacts"][:2]:
        c["mu"] = list(MUS)
    t0 = time.perf_counter()
    world, objs = build(sc)
    world.reset()
    cube = objs["cube"]
    z0 = sc["bodies"][2]["pose"][2]
    T = n_steps(sc, world.dt)
    ctrl = world.dt * world.substeps
    times, z, lift, fn = [0.0], [cube.state()["x"][:, 2].copy()], [0.0], [np.zeros(2)]
    for i in range(T):
        a = actions_at(sc, i, world.dt)
        world.step(a)
        times.append((i + 1) * ctrl)
        z.append(cube.state()["x"][:, 2].copy())
        lift.append(a["left"][2] - z0)
        fn.append(np.abs(pair_wrench(objs["left-cube"], np.zeros((2, 3)))[0][:, 0]))
    seconds = time.perf_counter() - t0
    times, z, lift, fn = (np.array(v) for v in (times, z, lift, fn))
    weight = 9.81 * float(cube.masses()[0])
    left_x = objs["left"].positions()
    right_x = objs["right"].positions()
    cube_pts = _cube_points(cube)

    fig, axes = plots.figure(ncols=3, width=4.4, height=3.6)
    fig.subplots_adjust(wspace=0.45, top=0.82)
    ax = axes[0, 0]
    from scipy.spatial import ConvexHull

    hull = ConvexHull(cube_pts[0][:, [0, 2]])
    ring = cube_pts[0][np.r_[hull.vertices, hull.vertices[:1]]]
    ax.fill(ring[:, 0] * 1e3, ring[:, 2] * 1e3, color=plots.PALETTE[0], alpha=0.35,
            label="cube")
    for pts, name, k in ((left_x[0], "left gel", 1), (right_x[0], "right gel", 2)):
        ax.scatter(pts[:, 0] * 1e3, pts[:, 2] * 1e3, s=5, color=plots.PALETTE[k], label=name)
    ax.axhline(0.0, color="0.4", lw=1.5)
    ax.set_aspect("equal")
    ax.set_xlim(-20, 20)
    ax.set_ylim(-2, 36)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("z (mm)")
    ax.set_title(f"held at t = {times[-1]:.2f} s (mu = {MUS[0]})", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", ncol=3, markerscale=2)
    ax = axes[0, 1]
    ax.plot(times, lift * 1e3, color="0.3", ls="--", label="fingers")
    for b, mu in enumerate(MUS):
        ax.plot(times, (z[:, b] - z[0, b]) * 1e3, color=plots.PALETTE[b],
                label=f"cube, mu = {mu}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("height gained (mm)")
    ax.set_title("lift", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    for b, mu in enumerate(MUS):
        ax.plot(times[1:], np.maximum(2 * mu * fn[1:, b] * 1e3, 1e-3), color=plots.PALETTE[b],
                label=f"2 mu F_n, mu = {mu}")
    ax.axhline(weight * 1e3, color="0.3", ls=":", label="cube weight")
    ax.set_yscale("log")
    ax.set_ylim(1.0, 5e3)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("force (mN)")
    ax.set_title("friction capacity vs weight", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("two gel fingertips grasp a free 2 cm cube (world of FEM + rigid bodies)")
    atomic.savefig(Path(out) / "world_grasp.png", fig)
    plots.close(fig)
    return {"png": "world_grasp.png", "mu": list(MUS), "cube_weight_N": weight,
            "normal_force_N": fn[-1].tolist(), "rise_m": (z[-1] - z[0]).tolist(),
            "finger_lift_m": float(lift[-1]), "substeps": int(T * world.substeps),
            "sim_seconds": seconds}


def _cube_points(cube):
    from tacsuite.sim import quat

    s = cube.state()
    pts = cube.shape.points
    return np.stack([pts @ quat.np_to_matrix(q).T + x for x, q in zip(s["x"], s["q"],
                                                                     strict=True)])
