"""Speed of an MPM object substep, as ratios against a reference measured in the same run.

Figures (one line each):
  1. one forward MPM substep (constitutive update, P2G, grid update, G2P) of an
     8,000-particle elastic cube (20^3 particles, 2 per cell) on our bounded grid that
     follows the object, against the same step on a DiffTactile-style dense 64^3 grid
     that is cleared and swept every substep (the reference omits DiffTactile's
     per-substep grid frames for the tape, so its cost is a lower bound);
  2. particles x substeps per second at B = 1 and B = 16 on the bounded grid.

    python scripts/bench_objects.py [--quick] [--out runs/bench_objects]
"""

import argparse
import os
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


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--out", default="runs/bench_objects", help="output folder")
    args = ap.parse_args(argv)
    ensure_init()
    reps = 10 if args.quick else 50
    n_side = 20
    ours, n, gs_ours = substep_time(1, False, n_side, reps)
    ref, _, gs_ref = substep_time(1, True, n_side, max(3, reps // 5))
    ours16, _, _ = substep_time(16, False, n_side, max(3, reps // 5))
    res = {"particles": n, "grid_ours": list(gs_ours), "grid_reference": list(gs_ref),
           "substep_s_ours_B1": ours, "substep_s_dense64_B1": ref,
           "speedup_vs_dense64": ref / ours,
           "particle_substeps_per_s_B1": n / ours,
           "particle_substeps_per_s_B16": 16 * n / ours16, "quick": args.quick}
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
    return res


if __name__ == "__main__":
    main()
