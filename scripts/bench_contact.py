"""Contact query speed: spatial hash vs all-pairs Taichi kernel vs numpy brute force.

4,096 object points against the top of a deformed, graded gel box pad with about 1,500
surface triangles. Two point sets: `sphere` (points on a sphere of radius 6 mm pressed
0.5 mm into the pad: most points are out of reach, as in a real press) and `band` (every
point within the cutoff of the top face: the worst case for the hash). Times are medians
of kernel calls followed by ti.sync(), so kernel launch is included; rebuild and query are
timed separately. Every method's answers are checked against the numpy reference.

    python scripts/bench_contact.py [--quick] [--points 4096] [--reps 50]
        [--cutoffs 1e-3,2.5e-4]

The cutoff is how far from the surface a point is still found; penalty contact keeps
penetrations far below it (micrometres), so 0.25 mm is already a wide margin.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.sim.backend import ensure_init, import_taichi  # noqa: E402
from tacsuite.sim.meshing import box_pad  # noqa: E402

PAD = (0.02, 0.02, 0.005)


def median_time(fn, reps: int, sync) -> float:
    fn()
    sync()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def point_sets(n: int, cutoff: float, rng) -> dict:
    k = np.arange(n) + 0.5
    phi, theta = np.arccos(1 - 2 * k / n), np.pi * (1 + 5**0.5) * k
    R = 0.006
    sphere = R * np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi),
                           np.cos(phi)], 1) + [0.0, 0.0, PAD[2] + R - 5e-4]
    band = np.column_stack([rng.uniform(-PAD[0] / 2, PAD[0] / 2, n),
                            rng.uniform(-PAD[1] / 2, PAD[1] / 2, n),
                            PAD[2] + rng.uniform(-cutoff, cutoff, n)])
    return {"sphere": sphere, "band": band}


def deformed(points: np.ndarray) -> np.ndarray:
    r2 = points[:, 0] ** 2 + points[:, 1] ** 2
    out = points.copy()
    out[:, 2] -= 5e-4 * np.exp(-r2 / (3e-3) ** 2) * points[:, 2] / PAD[2]
    return out


def bench_points(hs, pts_np, verts, tris, cutoff, reps, ti) -> dict:
    from tacsuite.sim.spatial_hash import closest_points_bruteforce

    n = len(pts_np)
    pts, *out = hs.buffers(n)
    buf = np.zeros((pts.shape[0], 3), np.float32)
    buf[:n] = pts_np
    pts.from_numpy(buf)
    t_hash = median_time(lambda: hs.query_fields(pts, n, out), reps, ti.sync)
    got = {k: f.to_numpy()[:n] for k, f in zip(("dist", "normal", "tri", "bary"), out,
                                               strict=True)}
    t_all = median_time(lambda: hs.query_fields(pts, n, out, allpairs=True),
                        max(3, reps // 5), ti.sync)
    t0 = time.perf_counter()
    # The reference sees the same f32-rounded inputs as the kernels.
    ref = closest_points_bruteforce(pts_np.astype(np.float32).astype(np.float64),
                                    verts.astype(np.float32).astype(np.float64), tris, cutoff)
    t_np = time.perf_counter() - t0
    t_numpy_api = median_time(lambda: hs.query(pts_np), reps, lambda: None)
    hit = ref["tri"] >= 0
    agree = bool(np.array_equal(got["tri"] >= 0, hit)
                 and np.allclose(got["dist"][hit], ref["dist"][hit], atol=1e-7))
    return {"query_ms": 1e3 * t_hash, "query_numpy_roundtrip_ms": 1e3 * t_numpy_api,
            "allpairs_taichi_ms": 1e3 * t_all, "bruteforce_numpy_ms": 1e3 * t_np,
            "speedup_vs_allpairs_taichi": t_all / t_hash, "speedup_vs_numpy": t_np / t_hash,
            "points_in_reach": int(hit.sum()), "matches_reference": agree}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--cutoffs", default="1e-3,2.5e-4",
                    help="comma-separated reach of the query, metres")
    ap.add_argument("--cell", type=float, default=None, help="hash cell size (metres)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--out", default="runs/bench_contact")
    args = ap.parse_args(argv)
    reps = 5 if args.quick else args.reps
    try:
        cutoffs = [float(c) for c in args.cutoffs.split(",")]
    except ValueError as exc:
        raise SystemExit(f"--cutoffs must be comma-separated numbers: {exc}") from exc
    ensure_init()
    ti = import_taichi()
    from tacsuite.sim.spatial_hash import SurfaceHash

    mesh = box_pad(PAD, h=1.7e-3, h_contact=5e-4, contact_radius=2.5e-3)
    verts = deformed(mesh.points)
    tris = mesh.surface_tris
    result = {"n_points": args.points, "n_surface_tris": len(tris), "n_tets": mesh.n_tets,
              "arch": ensure_init(), "float": "f32", "reps": reps, "cases": []}
    print(f"surface: {len(tris)} triangles, {mesh.n_tets} tets; {args.points} points")
    for cutoff in cutoffs:
        hs = SurfaceHash(tris, cutoff, rest_vertices=mesh.points, dtype=ti.f32,
                         cell_size=args.cell)
        hs.set_vertices(verts)
        t_rebuild = median_time(hs.rebuild, reps, ti.sync)
        tag = f"cutoff {1e3 * cutoff:g} mm"
        print(f"[{tag}] rebuild (one launch): {1e3 * t_rebuild:.3f} ms, "
              f"{hs.n_entries} entries, cell {1e3 * hs.cell_size:.2f} mm")
        rng = np.random.default_rng(0)
        for name, pts_np in point_sets(args.points, cutoff, rng).items():
            r = bench_points(hs, pts_np, verts, tris, cutoff, reps, ti)
            r.update(points=name, cutoff_m=cutoff, cell_size_m=hs.cell_size,
                     rebuild_ms=1e3 * t_rebuild, n_hash_entries=hs.n_entries)
            result["cases"].append(r)
            tag2 = f"{tag}, {name}"
            print(f"[{tag2}] {r['points_in_reach']}/{args.points} points in reach; agree "
                  f"with numpy: {r['matches_reference']}")
            print(f"[{tag2}] hash query: {r['query_ms']:.3f} ms (launch included)")
            print(f"[{tag2}] hash query from numpy (copy in/out): "
                  f"{r['query_numpy_roundtrip_ms']:.3f} ms")
            print(f"[{tag2}] all-pairs Taichi: {r['allpairs_taichi_ms']:.3f} ms, "
                  f"ratio {r['speedup_vs_allpairs_taichi']:.1f}x")
            print(f"[{tag2}] numpy brute force: {r['bruteforce_numpy_ms']:.1f} ms, "
                  f"ratio {r['speedup_vs_numpy']:.0f}x")
    out_dir = Path(args.out)
    atomic.write_json(out_dir / "result.json", result)
    plot(result, out_dir / "bench_contact.png")
    print(f"wrote {out_dir / 'result.json'} and {out_dir / 'bench_contact.png'}")
    return 0


def plot(result: dict, path: Path) -> None:
    fig, axes = plots.figure(width=7.0, height=3.8)
    ax = axes[0, 0]
    cases = result["cases"]
    x = np.arange(len(cases))
    for i, (key, label) in enumerate((("query_ms", "spatial hash query"),
                                      ("rebuild_ms", "spatial hash rebuild"),
                                      ("allpairs_taichi_ms", "all-pairs Taichi"),
                                      ("bruteforce_numpy_ms", "numpy brute force"))):
        ax.bar(x + (i - 1.5) * 0.2, [c[key] for c in cases], 0.2, label=label,
               color=plots.PALETTE[i])
    ax.axhline(1.0, color="k", ls=":", lw=1, label="1 ms")
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{c['points']}, {1e3 * c['cutoff_m']:g} mm\n"
                      f"({c['points_in_reach']} in reach)" for c in cases], fontsize=8)
    ax.set_ylabel(f"ms per {result['n_points']} points")
    ax.set_title(f"closest point on {result['n_surface_tris']} gel surface triangles "
                 f"({result['arch']}, {result['float']})")
    ax.legend(fontsize=7)
    atomic.savefig(path, fig)
    plots.close(fig)


if __name__ == "__main__":
    sys.exit(main())
