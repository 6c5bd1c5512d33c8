"""Speed of an MPM object substep, as ratios against a reference measured in the same run.

Figures (one line each):
  1. one forward MPM substep (constitutive update, P2G, grid update, G2P) of an
     8,000-particle elastic cube (20^3 particles, 2 per cell) on our bounded grid that
     follows the object, against the same step on a DiffTactile-style dense 64^3 grid
     that is cleared and swept every substep (the reference omits DiffTactile's
     per-substep grid frames for the tape, so its cost is a lower bound);
  2. particles x substeps per second at B = 1 and B = 16 on the bounded grid;
  3. a gel pad pressed 1 mm into an MPM block on the ground (SurfacePair): the largest
     relative residual |F_gel + F_object| / |F_object| over the control steps, the
     deepest particle, and how many particles inside the gel a nearest-centroid search
     would miss in the final configuration;
  4. the two_finger_mpm_cube scene (squeeze and lift) for `--squeeze-steps` control
     steps (default 300) with the gradient tape: forward time without the tape, forward
     with it, the reverse pass (d mean cube height / d actions and parameters), and the
     peak resident memory against the process's memory before the run.

    python scripts/bench_objects.py [--quick] [--squeeze-steps 300] [--out runs/bench_objects]
"""

import argparse
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.sim.backend import ensure_init, import_taichi  # noqa: E402

ti = import_taichi()


def substep_time(batch: int, dense: bool, n_side: int, reps: int) -> tuple[float, int, tuple]:
    from tacsuite.sim.mpm import MPMBody, sample_primitive
    from tacsuite.sim.world import World

    dx = 1.0 / 64
    pts = sample_primitive("box", dx / 2, size=(n_side * dx / 2,) * 3, center=(0.5,) * 3)
    # the dense reference's block covers the whole 64^3 domain (margin fills it up)
    margin = (64 - (n_side // 2 + 3)) // 2 + 1 if dense else 3
    w = World(batch=batch, dt=1e-4, substeps=1, dtype=ti.f32, gravity=(0, 0, -9.81))
    body = w.add(MPMBody("cube", pts, dx, E=1e4, nu=0.3, density=1000, margin=margin))
    w.reset()
    for _ in range(3):   # compile and warm up
        w.step()
    ti.sync()
    t0 = time.perf_counter()
    for _ in range(reps):
        w.step()
    ti.sync()
    return (time.perf_counter() - t0) / reps, body.n_points, body.grid_shape


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def press_figures(steps: int = 40) -> dict:
    import numpy as np

    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.ground import Ground
    from tacsuite.sim.mesh import structured_box
    from tacsuite.sim.mpm import MPMBody, sample_primitive
    from tacsuite.sim.spatial_hash import closest_points_bruteforce, nearest_centroid_inside
    from tacsuite.sim.surface_pair import SurfacePair
    from tacsuite.sim.world import World

    H, top = 0.002, 0.003
    w = World(dt=2e-5, substeps=10, dtype=ti.f64, gravity=(0, 0, -9.81))
    pose = np.array([0.0, 0.0, H + top, np.pi, 0.0, 0.0])
    gel = w.add(FEMBody("gel", structured_box((0.006, 0.006, top), (4, 4, 2)), E=5e4,
                        nu=0.3, density=1000.0, alpha=50.0, pose=pose))
    pts = sample_primitive("box", 0.5e-3, size=(0.004, 0.004, H), center=(0, 0, H / 2))
    blk = w.add(MPMBody("blk", pts, 1e-3, E=1e5, nu=0.3, density=1000.0, alpha=20.0,
                        margin=2))
    w.add_pair(ContactPair(blk, w.add(Ground("ground")), kn=1e8, kt=1e8, mu=0.5))
    pair = w.add_pair(SurfacePair(blk, gel, kn=1e8, kt=1e8, mu=0.5, name="touch"))
    w.reset()
    resid, deepest = 0.0, 0.0
    for i in range(steps):
        p = pose.copy()
        p[2] -= 1e-3 * min(1.0, (i + 1) / (0.75 * steps))
        w.step({"gel": p})
        f = pair.force()[0]
        if np.abs(f).max() > 0:
            resid = max(resid, np.abs(pair.node_forces()[0].sum(0) - f).max()
                        / np.abs(f).max())
        deepest = min(deepest, pair.penetration().min())
    x, verts = blk.positions()[0], gel.positions()[0]
    tris = gel.mesh.surface_tris
    inside = closest_points_bruteforce(x, verts, tris)["dist"] < 0
    missed = inside & ~nearest_centroid_inside(x, verts, tris)
    return {"press_force_balance_residual": float(resid),
            "press_max_penetration_m": float(-deepest),
            "press_force_N": float(pair.force()[0, 2]),
            "press_particles_inside": int(inside.sum()),
            "press_missed_by_nearest_centroid": int(missed.sum())}


def squeeze_lift(steps: int) -> dict:
    import numpy as np

    from tacsuite.sim.scene import actions_at, build, example_scenes, load_scene

    scene = load_scene(example_scenes()["two_finger_mpm_cube"])
    rss0 = _rss_mb()
    out = {}
    for grad in (False, True):
        world, objs = build(scene, requires_grad=grad, segment=10)
        n = objs["cube"].n_points
        seed = np.tile([0.0, 0.0, 1.0 / n], (1, n, 1))   # d(mean cube height)/dx
        world.reset()
        world.step(actions_at(scene, 0, world.dt))   # compile outside the timing
        if grad:
            world.backward({1: {"cube.x": seed}})
        world.reset()
        t0 = time.perf_counter()
        for i in range(steps):
            world.step(actions_at(scene, i, world.dt))
        ti.sync()
        out["squeeze_forward_s_tape" if grad else "squeeze_forward_s"] = \
            time.perf_counter() - t0
    t0 = time.perf_counter()
    g = world.backward({steps: {"cube.x": seed}})
    ti.sync()
    out.update({"squeeze_steps": steps, "squeeze_substeps": steps * scene["time"]["substeps"],
                "squeeze_backward_s": time.perf_counter() - t0,
                "squeeze_peak_rss_mb": _rss_mb(), "squeeze_rss_before_mb": rss0,
                "squeeze_dheight_dlift_left": float(g["actions"]["left"][:, 0, 2].sum())})
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--out", default="runs/bench_objects", help="output folder")
    ap.add_argument("--squeeze-steps", type=int, default=300,
                    help="control steps of the squeeze-and-lift figure (0: skip it)")
    args = ap.parse_args(argv)
    ensure_init()
    reps = 10 if args.quick else 50
    # first, so that the peak resident memory is this figure's
    squeeze = squeeze_lift(args.squeeze_steps) if args.squeeze_steps > 0 else {}
    n_side = 20
    ours, n, gs_ours = substep_time(1, False, n_side, reps)
    ref, _, gs_ref = substep_time(1, True, n_side, max(3, reps // 5))
    ours16, _, _ = substep_time(16, False, n_side, max(3, reps // 5))
    res = {"particles": n, "grid_ours": list(gs_ours), "grid_reference": list(gs_ref),
           "substep_s_ours_B1": ours, "substep_s_dense64_B1": ref,
           "speedup_vs_dense64": ref / ours,
           "particle_substeps_per_s_B1": n / ours,
           "particle_substeps_per_s_B16": 16 * n / ours16, "quick": args.quick}
    res.update(press_figures())
    res.update(squeeze)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / "result.json", res)
    fig, axes = plots.figure(ncols=2, width=4.2, height=3.4)
    ax = axes[0, 0]
    ax.bar(["bounded grid", "dense 64^3"], [ours * 1e3, ref * 1e3], color=plots.PALETTE[:2])
    ax.set_ylabel("ms per substep (B = 1)")
    ax.set_title(f"{n} particles, {ref / ours:.1f}x", fontsize=10)
    ax = axes[0, 1]
    ax.bar(["B = 1", "B = 16"], [n / ours / 1e6, 16 * n / ours16 / 1e6],
           color=plots.PALETTE[2:4])
    ax.set_ylabel("million particle-substeps / s")
    ax.set_title("throughput (bounded grid)", fontsize=10)
    atomic.savefig(out / "objects.png", fig)
    plots.close(fig)
    print(f"substep, {n} particles: bounded grid {gs_ours} {ours * 1e3:.2f} ms, dense "
          f"64^3 {ref * 1e3:.2f} ms: {ref / ours:.1f}x")
    print(f"particle-substeps/s: B=1 {n / ours:.3g}, B=16 {16 * n / ours16:.3g}")
    print(f"1 mm press: force balance residual {res['press_force_balance_residual']:.1e}, "
          f"deepest particle {res['press_max_penetration_m'] * 1e3:.3f} mm, "
          f"{res['press_missed_by_nearest_centroid']} of {res['press_particles_inside']} "
          f"particles inside the gel missed by a nearest-centroid search")
    if args.squeeze_steps > 0:
        print(f"squeeze and lift, {res['squeeze_steps']} steps "
              f"({res['squeeze_substeps']} substeps): forward {res['squeeze_forward_s']:.1f} s, "
              f"with tape {res['squeeze_forward_s_tape']:.1f} s, backward "
              f"{res['squeeze_backward_s']:.1f} s, peak RSS {res['squeeze_peak_rss_mb']:.0f} MB "
              f"(before: {res['squeeze_rss_before_mb']:.0f} MB)")
    return res


if __name__ == "__main__":
    main()
