"""Speed and memory of the gel simulator, as ratios against references in the same run.

Figures (one line each):
  1. explicit substep of a ~8k-tet pad with an analytic-SDF sphere, against the same step
     whose contact search tests every gel surface node against every triangle of a
     triangulated sphere (all pairs, no spatial structure): time ratio;
  2. cost per tet per substep against the machine's memory-bandwidth bound (bytes a
     substep must move / numpy copy bandwidth);
  3. backward (reverse kernels) against forward substep time;
  4. quasi-static press (quarter pad, ~8k tets) with its adjoint gradient: first call
     (includes Taichi compilation) and a repeat on the same solver;
  5. memory of a 1,000-substep differentiable rollout with checkpointing (field bytes and
     process RSS growth) against the bytes storing every substep would need.

    python scripts/bench_sim.py [--quick] [--steps 200] [--out runs/bench_sim]
"""

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.sim.backend import ensure_init, import_taichi  # noqa: E402
from tacsuite.sim.mesh import structured_box  # noqa: E402

ti = import_taichi()


def uv_sphere(radius, n_lat, n_lon):
    """Closed triangulated sphere: 2 n_lon (n_lat - 1) triangles, outward normals."""
    th = np.linspace(0, np.pi, n_lat + 1)[1:-1]
    ph = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    T, P = np.meshgrid(th, ph, indexing="ij")
    pts = np.stack([np.sin(T) * np.cos(P), np.sin(T) * np.sin(P), np.cos(T)], -1).reshape(-1, 3)
    pts = np.vstack([[0, 0, 1], pts, [0, 0, -1]]) * radius
    tris = []
    ring = lambda i, j: 1 + i * n_lon + (j % n_lon)  # noqa: E731
    for j in range(n_lon):
        tris.append([0, ring(0, j), ring(0, j + 1)])
        tris.append([len(pts) - 1, ring(n_lat - 2, j + 1), ring(n_lat - 2, j)])
    for i in range(n_lat - 2):
        for j in range(n_lon):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            tris += [[a, c, d], [a, d, b]]
    return pts, np.array(tris, dtype=np.int32)


@ti.data_oriented
class AllPairsContact:
    """Reference contact: every gel surface node against every indenter triangle."""

    def __init__(self, gel, ball, pair, verts, tris):
        self.gel, self.ball, self.pair = gel, ball, pair
        f = gel.dtype
        self.nt = len(tris)
        self.tri = ti.Vector.field(3, f, shape=(self.nt, 3))
        self.tri.from_numpy(verts[tris].astype(gel.npf))

    @ti.func
    def closest_on_triangle(self, p, a, b, c):
        # Ericson, Real-Time Collision Detection, 5.1.5.
        ab, ac, ap = b - a, c - a, p - a
        d1, d2 = ab.dot(ap), ac.dot(ap)
        res = a
        done = False
        if d1 <= 0 and d2 <= 0:
            done = True
        bp = p - b
        d3, d4 = ab.dot(bp), ac.dot(bp)
        if not done and d3 >= 0 and d4 <= d3:
            res, done = b, True
        vc = d1 * d4 - d3 * d2
        if not done and vc <= 0 and d1 >= 0 and d3 <= 0:
            res, done = a + d1 / (d1 - d3) * ab, True
        cp = p - c
        d5, d6 = ab.dot(cp), ac.dot(cp)
        if not done and d6 >= 0 and d5 <= d6:
            res, done = c, True
        vb = d5 * d2 - d1 * d6
        if not done and vb <= 0 and d2 >= 0 and d6 <= 0:
            res, done = a + d2 / (d2 - d6) * ac, True
        va = d3 * d6 - d5 * d4
        if not done and va <= 0 and (d4 - d3) >= 0 and (d5 - d6) >= 0:
            res, done = b + (d4 - d3) / ((d4 - d3) + (d5 - d6)) * (c - b), True
        if not done:
            den = 1.0 / (va + vb + vc)
            res = a + ab * (vb * den) + ac * (vc * den)
        return res

    @ti.kernel
    def contact_forces(self, t: ti.i32, g: ti.i32):
        gel = self.gel
        for k in range(gel.n_points):
            i = gel.geo.cidx[k]
            c0 = self.ball.pose_track.p[0, g]
            p = gel.x[0, t, i] - c0
            best = 1e30
            bq = p
            bn = p
            for j in range(self.nt):
                a, b, c = self.tri[j, 0], self.tri[j, 1], self.tri[j, 2]
                q = self.closest_on_triangle(p, a, b, c)
                d2 = (p - q).norm_sqr()
                if d2 < best:
                    best, bq = d2, q
                    bn = (b - a).cross(c - a).normalized()
            phi = ti.sqrt(best)
            if (p - bq).dot(bn) < 0:
                phi = -phi
            if phi < 0:
                fn = -self.pair.p_kn[0] * gel.geo.carea[k] * phi * bn
                gel.f[0, t, i] += fn
                self.pair.force_acc[0, t] += -fn


def timed(fn, reps):
    fn()
    ti.sync()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ti.sync()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def bandwidth_gbs():
    a = np.ones(2**25, dtype=np.float32)
    b = np.empty_like(a)
    best = min(timed_np(lambda: np.copyto(b, a)) for _ in range(5))
    return 2 * a.nbytes / best / 1e9


def timed_np(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def pad_world(cells, requires_grad, substeps, segment=1, dtype=None):
    """A 20 mm x 20 mm x 4 mm pad under a 6 mm sphere, in a one-environment world."""
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    H, E = 0.004, 1e5
    h = 0.02 / cells[0]
    mesh = structured_box((0.02, 0.02, H), cells)
    w = World(batch=1, dt=1e-8, substeps=substeps, dtype=dtype or ti.f32,
              requires_grad=requires_grad, segment=segment)
    gel = w.add(FEMBody("gel", mesh, E=E, nu=0.3, density=1000.0, alpha=100.0))
    ball = w.add(KinematicRigid("ball", Sphere(6e-3, dtype=w.dtype),
                                pose=(0, 0, H + 6e-3 - 0.3e-3, 0, 0, 0)))
    pair = w.add_pair(ContactPair(gel, ball, kn=100 * E / h, kt=100 * E / h, mu=0.5))
    w.reset()
    w.set_dt(w.dt_limit)
    return w, gel, ball, pair, mesh


def explicit_figures(cells, steps, quick):
    w, gel, ball, pair, mesh = pad_world(cells, True, 10)
    w.step()

    def ours():
        for t in range(10):
            gel.internal(t, t + 1, t)
            pair.apply(t, t + 1, t)
            gel.integrate(t, t + 1, t)

    verts, tris = uv_sphere(6e-3, 26, 30)          # 1,500 triangles
    ref = AllPairsContact(gel, ball, pair, verts, tris)

    def reference():
        for t in range(10):
            gel.internal(t, t + 1, t)
            ref.contact_forces(t, t)
            gel.integrate(t, t + 1, t)

    reps = 3 if quick else 10
    t_ours = timed(ours, reps) / 10
    t_ref = timed(reference, max(1, reps // 3)) / 10
    t_el = timed(lambda: [gel.internal(t, t + 1, t) for t in range(10)], reps) / 10

    def backward():
        for t in reversed(range(10)):
            gel.integrate_grad(t, t + 1, t)
            pair.apply_grad(t, t + 1, t)
            gel.internal_grad(t, t + 1, t)

    t_back = timed(backward, reps) / 10
    # Bytes a substep must move (float32): per tet the element data (tets 16, Bm 36, V0 4),
    # 4 node positions and velocities (96) and 4 atomic force updates (96 read+write); per
    # node the integrator reads x, v, f, X, mask, volume (64) and writes x, v (24).
    bytes_sub = gel.m * (16 + 36 + 4 + 96 + 96) + gel.n * (64 + 24)
    bw = bandwidth_gbs()
    bound = bytes_sub / (bw * 1e9)
    n_tris = len(tris)
    return {"tets": int(mesh.n_tets), "nodes": int(mesh.n_nodes), "indenter_triangles": n_tris,
            "substep_ours_ms": t_ours * 1e3, "substep_allpairs_ms": t_ref * 1e3,
            "speedup_vs_allpairs": t_ref / t_ours, "elastic_kernel_ms": t_el * 1e3,
            "ns_per_tet_substep": t_ours / mesh.n_tets * 1e9,
            "bandwidth_GBs": bw, "bandwidth_bound_ms": bound * 1e3,
            "ratio_to_bandwidth_bound": t_ours / bound,
            "backward_substep_ms": t_back * 1e3, "backward_over_forward": t_back / t_ours}


def press_figures(quick):
    from tacsuite.sim.press import press
    R, d = 5e-3, 2e-4
    a = np.sqrt(R * d)
    kw = dict(E=1e5, nu=0.3, pad=(20 * a, 20 * a, 10 * a), mesh_size=a / (3 if quick else 4),
              steps=2, growth=1.6, grad=("E", "nu", "depth"))
    t0 = time.perf_counter()
    r = press("sphere", R, d, **kw)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    r2 = press("sphere", R, d, solver=r.info["solver"], **kw)
    again = time.perf_counter() - t0
    return {"press_tets_quarter": r.info["n_tets_quarter"], "press_first_s": first,
            "press_repeat_s": again, "press_force": r2.force,
            "press_newton": r2.info["newton_iterations"]}


def memory_figures(cells, horizon, segment):
    """A differentiable rollout of `horizon` substeps (control steps of 10 substeps)."""
    before = rss_mb()
    k = 10
    w, gel, ball, pair, mesh = pad_world(cells, True, k, segment=max(segment // k, 1))
    steps = horizon // k
    H = 0.004
    z = H + 6e-3 - 0.2e-3 * np.linspace(0, 1, steps + 1)[1:]
    t0 = time.perf_counter()
    w.reset()
    for i in range(steps):
        w.step({"ball": (0, 0, z[i], 0, 0, 0)})
    t_fwd = time.perf_counter() - t0
    seeds = {i + 1: {f"{pair.name}.force": np.array([[0.0, 0.0, 1.0]])} for i in range(steps)}
    t0 = time.perf_counter()
    w.backward(seeds)
    t_bwd_first = time.perf_counter() - t0       # includes compiling the reverse kernels
    t0 = time.perf_counter()
    w.backward(seeds)
    t_bwd = time.perf_counter() - t0
    after = rss_mb()
    P = pair.P
    per_slot = gel.n * 3 * 4 * 3 * 2 + P * (3 * 4 * 2 + 4 * 2)   # x, v, f (+grads), anchors
    field_mb = w.n_slots * per_slot / 2**20
    full_mb = (horizon + 1) * per_slot / 2**20
    return {"rollout_substeps": steps * k, "segment": w.segment * k,
            "rollout_forward_s": t_fwd, "rollout_backward_s": t_bwd,
            "rollout_backward_first_s": t_bwd_first,
            "state_fields_MB": field_mb, "without_checkpointing_MB": full_mb,
            "peak_rss_growth_MB": after - before, "peak_rss_MB": after,
            "final_force_z": float(pair.history[-1][0, 2])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    ap.add_argument("--out", default="runs/bench_sim")
    args = ap.parse_args()
    ensure_init()
    cells = (10, 10, 3) if args.quick else (18, 18, 4)
    res = {"machine_threads": os.cpu_count()}
    # The long rollout runs first: a fresh process keeps its memory figure clean.
    res.update(memory_figures(cells, 200 if args.quick else 1000, 50))
    res.update(explicit_figures(cells, 20, args.quick))
    print(f"explicit substep, {res['tets']} tets: ours {res['substep_ours_ms']:.3f} ms, "
          f"all-pairs contact ({res['indenter_triangles']} triangles) "
          f"{res['substep_allpairs_ms']:.3f} ms, speed-up x{res['speedup_vs_allpairs']:.1f}")
    print(f"cost per tet per substep {res['ns_per_tet_substep']:.1f} ns; bandwidth bound "
          f"{res['bandwidth_bound_ms']:.3f} ms at {res['bandwidth_GBs']:.1f} GB/s; "
          f"measured / bound = {res['ratio_to_bandwidth_bound']:.1f}")
    print(f"backward substep {res['backward_substep_ms']:.3f} ms = "
          f"{res['backward_over_forward']:.2f} x forward")
    res.update(press_figures(args.quick))
    print(f"quasi-static press ({res['press_tets_quarter']} tets, quarter model) with "
          f"gradient: {res['press_first_s']:.2f} s first call (compiles), "
          f"{res['press_repeat_s']:.2f} s repeat")
    print(f"differentiable rollout of {res['rollout_substeps']} substeps: state fields "
          f"{res['state_fields_MB']:.1f} MB with checkpointing vs "
          f"{res['without_checkpointing_MB']:.1f} MB storing every substep; peak RSS "
          f"{res['peak_rss_MB']:.0f} MB (+{res['peak_rss_growth_MB']:.0f} MB); "
          f"forward {res['rollout_forward_s']:.2f} s, backward {res['rollout_backward_s']:.2f} s "
          f"(first {res['rollout_backward_first_s']:.1f} s incl. compilation)")
    out = Path(args.out)
    atomic.write_json(out / "result.json", res)
    fig, axes = plots.figure(ncols=2, width=4.5)
    ax = axes[0, 0]
    ax.bar(["ours", "all-pairs"], [res["substep_ours_ms"], res["substep_allpairs_ms"]],
           color=plots.PALETTE[:2])
    ax.set_ylabel("ms per explicit substep")
    ax.set_title(f"{res['tets']} tets")
    ax = axes[0, 1]
    ax.bar(["forward", "backward", "bandwidth bound"],
           [res["substep_ours_ms"], res["backward_substep_ms"], res["bandwidth_bound_ms"]],
           color=plots.PALETTE[:3])
    ax.set_ylabel("ms per substep")
    atomic.savefig(out / "bench_sim.png", fig)
    plots.close(fig)
    print(f"wrote {out / 'result.json'}")


if __name__ == "__main__":
    main()
