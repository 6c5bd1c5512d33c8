"""Quasi-static slide and twist of a pressed sphere against Cattaneo-Mindlin and Lubkin.

A rigid sphere (R 4 mm) is pressed 0.3 mm into a gel pad (6 x 6 x 3 mm, bonded base,
E 50 kPa, nu 0.3, mu 0.3) by `StaticSolver`, then either slid along x or turned about its
axis in monotone load steps. Each step reports the tangential load Q (the change of the
friction force from the pressed state) or the torque T, the share of contact nodes that
slip, and the references: Mindlin's Q / (mu P) = 1 - (1 - delta/delta*)^1.5 with
delta* = 3 mu P (2 - nu) / (16 G a), and for the twist the sticking (Reissner-Sagoci)
stiffness (16/3) G a^3 and Lubkin's full-slip torque (3 pi / 16) mu P a. The pad is a
bonded layer of finite size and the mesh is coarse next to the contact (a is about 2 to
3 node spacings), so the curves sit a little above the half-space references.

    python scripts/reproduce_static_friction.py [--quick] [--out runs/static_friction]

About 5 minutes on 2 cores (16 x 16 x 3 cells); `--quick` (12 x 12 x 2 cells, fewer
steps) about 1 minute.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.sim.backend import ensure_init, import_taichi  # noqa: E402
from tacsuite.sim.mesh import structured_box  # noqa: E402
from tacsuite.theory import contact  # noqa: E402

PAD, R, DEPTH, E, NU, MU, K = (0.006, 0.006, 0.003), 4e-3, 0.3e-3, 5e4, 0.3, 0.3, 5e9
Z = PAD[2] + R - DEPTH


def build(cells):
    ti = import_taichi()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    from tacsuite.sim.world_statics import StaticSolver
    w = World(batch=1, dt=1e-8, dtype=ti.f64)
    gel = w.add(FEMBody("gel", structured_box(PAD, cells), E=E, nu=NU, density=1000.0))
    ball = w.add(KinematicRigid("ball", Sphere(R, dtype=ti.f64)))
    w.add_pair(ContactPair(gel, ball, kn=K, kt=K, mu=MU))
    return w, StaticSolver(w)


def contact_nodes(static):
    """(offset from the sphere's axis (m, 2), normal force, friction on the gel, state)."""
    gel = static.gel
    fr = gel.friction_readout()
    x = gel.x.to_numpy()[fr["node"]]
    on = fr["normal"] > 0
    off = (x - gel.indenter.pos.to_numpy()[0])[on, :2]
    return off, fr["normal"][on], fr["tangential"][on], fr["state"][on]


def solve(static, pose, tag):
    t0 = time.perf_counter()
    out = static.solve({"ball": pose})[0]
    off, fn, ft, state = contact_nodes(static)
    print(f"  {tag}: P {1e3 * fn.sum():.2f} mN, a {1e3 * out['contact_radius']:.3f} mm, "
          f"{np.mean(state == 2):.0%} of {len(fn)} contact nodes slip "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    return out, off, fn, ft, state


def slide(w, static, steps) -> dict:
    w.reset()
    print("slide along x after the press")
    out, _, fn, ft, _ = solve(static, (0, 0, Z, 0, 0, 0), "press")
    # The press leaves its own radial friction; Q is the change from it.
    P0, q0, a0 = fn.sum(), ft[:, 0].sum(), out["contact_radius"]
    rows = []
    for dx in steps:
        out, off, fn, ft, state = solve(static, (dx, 0, Z, 0, 0, 0), f"dx {1e6 * dx:g} um")
        P, a = fn.sum(), out["contact_radius"]
        r = np.linalg.norm(off, axis=1)
        rows.append({"dx_m": dx, "P_N": P, "a_m": a,
                     "Q_over_muP": (ft[:, 0].sum() - q0) / (MU * P),
                     "friction_over_muP": ft[:, 0].sum() / (MU * P),
                     "mindlin": float(contact.mindlin_load_ratio(dx, P, a, MU, E, NU)),
                     "slip_fraction": float(np.mean(state == 2)),
                     "mean_radius_slip_m": float(r[state == 2].mean()) if (state == 2).any()
                     else None,
                     "mean_radius_stick_m": float(r[state == 1].mean()) if (state == 1).any()
                     else None})
    return {"P0_N": P0, "a0_m": a0,
            "delta_star_m": contact.mindlin_slip_distance(P0, a0, MU, E, NU), "steps": rows}


def twist(w, static, steps) -> dict:
    w.reset()
    print("twist about z after the press")
    out, _, fn, _, _ = solve(static, (0, 0, Z, 0, 0, 0), "press")
    P0, a0 = fn.sum(), out["contact_radius"]
    rows = []
    for th in steps:
        out, off, fn, ft, state = solve(static, (0, 0, Z, 0, 0, th), f"theta {th:g} rad")
        P, a = fn.sum(), out["contact_radius"]
        r = np.linalg.norm(off, axis=1)
        T = -out["torque_vector"][2]          # friction turns the sphere back
        rows.append({"theta_rad": th, "P_N": P, "a_m": a, "T_Nm": T,
                     "T_over_lubkin": T / contact.lubkin_full_slip_torque(P, a, MU),
                     "T_over_nodal_full_slip": T / (MU * np.sum(fn * r)),
                     "nodal_full_slip_over_lubkin":
                         MU * np.sum(fn * r) / contact.lubkin_full_slip_torque(P, a, MU),
                     "slip_fraction": float(np.mean(state == 2))})
    return {"P0_N": P0, "a0_m": a0, "torsion_stiffness_Nm_per_rad":
            contact.torsion_stiffness(a0, E, NU),
            "lubkin_Nm": contact.lubkin_full_slip_torque(P0, a0, MU), "steps": rows}


def plot(result: dict, path: Path) -> None:
    fig, axes = plots.figure(ncols=2, width=4.6, height=3.6, layout="constrained")
    s, t = result["slide"], result["twist"]
    ds = s["delta_star_m"]
    x = np.array([r["dx_m"] for r in s["steps"]]) / ds
    ax = axes[0, 0]
    ax.plot(x, [r["Q_over_muP"] for r in s["steps"]], "o-", color=plots.PALETTE[0],
            label="FEM: Q, change from the pressed state")
    ax.plot(x, [r["friction_over_muP"] for r in s["steps"]], "^--", color=plots.PALETTE[3],
            ms=4, label="FEM: whole friction force along x")
    ax.plot(x, [r["slip_fraction"] for r in s["steps"]], "s:", color=plots.PALETTE[1],
            ms=4, label="share of contact nodes slipping")
    xx = np.linspace(0, max(x.max(), 1.2), 200)
    plots.reference_line(ax, xx, contact.mindlin_load_ratio(xx * ds, s["P0_N"], s["a0_m"],
                                                            MU, E, NU),
                         "Cattaneo-Mindlin (half-space)")
    ax.set_xlabel(r"slide $\delta / \delta^*$")
    ax.set_ylabel(r"$Q / (\mu P)$")
    ax.set_title(f"slide ($\\delta^*$ = {1e6 * ds:.0f} µm)", fontsize=10)
    ax.set_ylim(0, 1.15)
    ax = axes[0, 1]
    th = np.array([r["theta_rad"] for r in t["steps"]])
    ax.plot(th, [r["T_over_lubkin"] for r in t["steps"]], "o-", color=plots.PALETTE[0],
            label=None)
    ax.plot(th, [r["slip_fraction"] for r in t["steps"]], "s:", color=plots.PALETTE[1],
            ms=4, label=None)
    tt = np.linspace(0, th.max(), 200)
    k = t["torsion_stiffness_Nm_per_rad"] / t["lubkin_Nm"]
    tt_stick = tt[k * tt <= 1.3]
    plots.reference_line(ax, tt_stick, k * tt_stick, "sticking (Reissner-Sagoci)",
                         color=plots.PALETTE[2], ls="-.")
    plots.reference_line(ax, tt, np.ones_like(tt), r"full slip (Lubkin $3\pi/16\,\mu P a$)",
                         ls=":")
    ax.set_xlabel(r"twist $\theta$ (rad)")
    ax.set_ylabel(r"$T / T_{\mathrm{Lubkin}}$")
    ax.set_title("twist", fontsize=10)
    ax.set_ylim(0, 1.3)
    plots.legend_below(fig, ncol=3)
    fig.suptitle(f"pressed sphere R {1e3 * R:g} mm, depth {1e3 * DEPTH:g} mm, mu {MU}, "
                 f"{result['cells']} cells", fontsize=10)
    atomic.savefig(path, fig)
    plots.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="coarser pad, fewer load steps")
    ap.add_argument("--out", default="runs/static_friction")
    args = ap.parse_args(argv)
    ensure_init()
    if args.quick:
        cells = (12, 12, 2)
        slides = [1e-5, 2e-5, 4e-5, 8e-5, 1.6e-4, 3e-4]
        twists = [0.005, 0.01, 0.02, 0.04, 0.08, 0.16]
    else:
        cells = (16, 16, 3)
        slides = [5e-6, 1e-5, 2e-5, 3e-5, 4e-5, 6e-5, 8e-5, 1e-4, 1.3e-4, 1.6e-4, 2e-4,
                  3e-4]
        twists = [0.0025, 0.005, 0.01, 0.02, 0.03, 0.045, 0.06, 0.08, 0.1, 0.15, 0.2]
    t0 = time.perf_counter()
    w, static = build(cells)
    result = {"cells": list(cells), "pad_m": list(PAD), "R_m": R, "depth_m": DEPTH, "E": E,
              "nu": NU, "mu": MU, "kn": K, "kt": K, "arch": ensure_init(), "float": "f64"}
    result["slide"] = slide(w, static, slides)
    result["twist"] = twist(w, static, twists)
    result["wall_s"] = time.perf_counter() - t0
    out_dir = Path(args.out)
    atomic.write_json(out_dir / "result.json", result)
    plot(result, out_dir / "static_friction.png")
    last = result["slide"]["steps"][-1]
    print(f"full slide: friction / (mu P) = {last['friction_over_muP']:.3f}; twist: "
          f"T / T_Lubkin = {result['twist']['steps'][-1]['T_over_lubkin']:.3f}")
    print(f"wrote {out_dir / 'result.json'} and {out_dir / 'static_friction.png'} "
          f"({result['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
