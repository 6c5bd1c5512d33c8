"""Demo: deformable objects in the world - a plasticine dent and a sagging, then dragged
cable.

- The shipped `plasticine_dent` scene: a rigid 6 mm sphere presses 2 mm into an MLS-MPM
  block (von Mises, yield stress 2 kPa) and lifts off; the block keeps a dent.
- A 22 cm cable (2 mm radius, E = 10 MPa) held at both ends 20 cm apart sags under its
  own weight to the catenary; then its grasped end comes 6 cm closer and down to the
  ground, so the slack lies there, and drags 8 cm sideways: ground friction holds the
  part on the ground back and it bends.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots

SPAN, LENGTH, HEIGHT, NODES, RADIUS = 0.2, 0.22, 0.06, 23, 2e-3
SAG_STEPS, DRAG_STEPS, SUBSTEPS = 60, 90, 100


def _dent():
    from tacsuite.sim.scene import actions_at, build, example_scenes, load_scene, n_steps

    sc = load_scene(example_scenes()["plasticine_dent"])
    world, objs = build(sc)
    world.reset()
    clay = objs["clay"]
    R = float(sc["bodies"][2]["shape"]["radius"])
    x0 = clay.positions()[0]
    top0 = x0[:, 2].max()
    T = n_steps(sc, world.dt)
    ctrl = world.dt * world.substeps
    times, tip, dent = [0.0], [], []
    tip.append(actions_at(sc, 0, world.dt)["finger"][2] - R)
    dent.append(0.0)
    for i in range(T):
        a = actions_at(sc, i, world.dt)
        world.step(a)
        times.append((i + 1) * ctrl)
        tip.append(a["finger"][2] - R)
        dent.append(_dent_depth(clay.positions()[0]))
    return dict(x0=x0, x1=clay.positions()[0], top0=top0, times=np.array(times), R=R,
                tip=np.array(tip), dent=np.array(dent), dx=float(sc["bodies"][1]["dx"]),
                yield_stress=float(sc["bodies"][1]["material"]["yield_stress"]))


def _dent_depth(x) -> float:
    """The top under the sphere's axis below the top near the block's rim, at one time
    (the free surface's particles settle by about a quarter cell as the run starts)."""
    r = np.hypot(x[:, 0], x[:, 1])
    return float(x[r > 8e-3, 2].max() - x[r < 1.5e-3, 2].max())


def _cable():
    from tacsuite.sim.backend import ensure_init, import_taichi

    ensure_init()
    ti = import_taichi()
    from tacsuite.sim.cable import Cable
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.ground import Ground
    from tacsuite.sim.world import World

    w = World(batch=1, dt=5e-5, substeps=SUBSTEPS, dtype=ti.f64, gravity=(0, 0, -9.81))
    # Laid out as a V through both pins with the cable's length, equally spaced.
    s = np.linspace(0.0, LENGTH, NODES)
    drop = np.sqrt((LENGTH / 2) ** 2 - (SPAN / 2) ** 2)
    pts = np.stack([s * SPAN / LENGTH, 0 * s,
                    HEIGHT - np.minimum(s, LENGTH - s) * 2 * drop / LENGTH], 1)
    cab = w.add(Cable("rope", pts, radius=RADIUS, E=1e7, density=1200.0, alpha=8.0,
                      fixed=[0], grasped=[NODES - 1]))
    w.add_pair(ContactPair(cab, w.add(Ground()), kn=1e7, kd=0.0, kt=1e7, mu=0.6))
    w.set_dt(min(w.dt, 0.8 * w.stability_limit()))
    w.reset()
    hold = np.zeros(6)
    for _ in range(SAG_STEPS):
        w.step({"rope": hold})
    sagged = cab.positions()[0].copy()
    frames = [sagged]
    # 6 cm in and down to the ground over the first third, then 8 cm along +y.
    for i in range(DRAG_STEPS):
        u = (i + 1) / DRAG_STEPS
        down = min(3 * u, 1.0)
        dy = 0.08 * max(0.0, (u - 1 / 3) * 1.5)
        w.step({"rope": np.array([-0.06 * down, dy, -(HEIGHT - RADIUS) * down, 0, 0, 0])})
        if (i + 1) % (DRAG_STEPS // 3) == 0:
            frames.append(cab.positions()[0].copy())
    return dict(sagged=sagged, frames=frames, strain=float(cab.strain().max()),
                on_ground=int(np.sum(frames[-1][:, 2] < 1.5 * RADIUS)))


def run(out: Path) -> dict:
    from tacsuite.theory.rods import catenary_profile, catenary_sag

    t0 = time.perf_counter()
    d = _dent()
    c = _cable()
    seconds = time.perf_counter() - t0

    fig, axes = plots.figure(ncols=2, nrows=2, width=5.0, height=3.6, layout="constrained")
    ax = axes[0, 0]
    for x, label, k, alpha in ((d["x0"], "before", 7, 0.25), (d["x1"], "after", 0, 0.9)):
        sl = np.abs(x[:, 1]) < 0.5 * d["dx"]
        ax.scatter(x[sl, 0] * 1e3, x[sl, 2] * 1e3, s=6, color=plots.PALETTE[k], alpha=alpha,
                   label=f"clay particles {label}")
    lowest, R = d["tip"].min() + d["R"], 1e3 * d["R"]
    th = np.linspace(0, 2 * np.pi, 100)
    ax.plot(R * np.cos(th), lowest * 1e3 + R * np.sin(th), color=plots.PALETTE[1], lw=1.2,
            label="sphere at its deepest")
    ax.set_aspect("equal")
    ax.set_xlim(-14, 14)
    ax.set_ylim(-1, 21)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("z (mm)")
    ax.set_title("plasticine block (MLS-MPM, von Mises), slice y = 0", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[0, 1]
    ax.plot(d["times"], (d["top0"] - d["tip"]) * 1e3, color=plots.PALETTE[1], ls="--",
            label="sphere below the block's top")
    ax.plot(d["times"], np.array(d["dent"]) * 1e3, color=plots.PALETTE[0],
            label="dent: top at the centre below the top at the rim")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("depth (mm)")
    ax.set_ylim(-0.4, 2.4)
    ax.set_title(f"press and lift: a {1e3 * d['dent'][-1]:.2f} mm dent stays", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    ax = axes[1, 0]
    xs = np.linspace(0, SPAN, 200)
    ax.plot(c["sagged"][:, 0] * 1e2, c["sagged"][:, 2] * 1e2, "o-", ms=4, lw=2.5,
            color=plots.PALETTE[0], label=f"rod, {NODES} nodes")
    plots.reference_line(ax, xs * 1e2, (HEIGHT + catenary_profile(xs - SPAN / 2, SPAN,
                                                                  LENGTH)) * 1e2,
                         "catenary")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("x (cm)")
    ax.set_ylabel("z (cm)")
    ax.set_title(f"cable held at both ends sags (side view, {1e2 * LENGTH:g} cm long)",
                 fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[1, 1]
    labels = ("end put down 6 cm closer", "dragged 4 cm along y", "dragged 8 cm")
    for k, (f, label) in enumerate(zip(c["frames"][1:], labels, strict=True), start=1):
        on = f[:, 2] < 1.5 * RADIUS
        ax.plot(f[:, 0] * 1e2, f[:, 1] * 1e2, "-", lw=1.2, color=plots.PALETTE[k],
                label=label)
        ax.plot(f[on, 0] * 1e2, f[on, 1] * 1e2, "o", ms=3.5, color=plots.PALETTE[k])
    ax.plot([0], [0], "k^", ms=7, label="pinned end (6 cm up)")
    ax.set_aspect("equal")
    ax.set_xlabel("x (cm)")
    ax.set_ylabel("y (cm)")
    ax.set_title("end put down and dragged (top view; dots: on the ground)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    sag_sim = HEIGHT - c["sagged"][NODES // 2, 2]
    sag_ref = catenary_sag(SPAN, LENGTH)
    fig.suptitle("deformable objects in the world (MLS-MPM plasticine, elastic rod)")
    atomic.savefig(Path(out) / "objects.png", fig)
    plots.close(fig)
    return {"png": "objects.png", "dent_m": float(d["dent"][-1]),
            "deepest_press_m": float(d["top0"] - d["tip"].min()),
            "yield_stress_Pa": d["yield_stress"], "cable_sag_m": float(sag_sim),
            "catenary_sag_m": sag_ref, "cable_max_strain": c["strain"],
            "cable_nodes_on_ground": c["on_ground"], "sim_seconds": seconds}
