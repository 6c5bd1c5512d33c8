"""Speed of the world, as ratios against references measured in the same run.

Figures (one line each):
  1. environment-substeps per second at B = 1, 16, 64 for a ~8k-tet fingertip pad pressed
     by a rigid cube and a ~1k-tet pad under a sphere (float32, no gradients), and the
     speed-up of B = 64 over B = 1;
  2. kernel launches per substep and per control step;
  3. batched cost per tet per substep on the 8k scene against a memory-bandwidth bound
     (bytes a substep must move / numpy copy bandwidth measured here);
  4. the elastic-force kernel (corner forces gathered per node) against the same forces
     scattered with atomic adds, at B = 1 and 64;
  5. one explicit substep against a DiffTactile-style reference on the same mesh:
     per-substep state arrays with gradients, every phase a separate kernel, contact by a
     brute-force nearest-centroid search of the object's points over the gel's surface
     triangles, 49 substeps per control step;
  6. first call and repeat of a world step in a fresh process, with the compiler's offline cache
     empty (compiles) and warm (a second process loads the compiled kernels).

    python scripts/bench_world.py [--quick] [--out runs/bench_world]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.sim import material  # noqa: E402
from tacsuite.sim.backend import compiler_env, ensure_init, import_taichi  # noqa: E402
from tacsuite.sim.mesh import structured_box  # noqa: E402

ti = import_taichi()
H, E = 0.004, 1e5
SCENES = {"8k": (16, 16, 5), "1k": (8, 8, 3)}     # 6 tets per cell: 7,680 and 1,152 tets


def scene(cells, batch, substeps, dtype=None, requires_grad=False, cube=True):
    """Fingertip pad (20 x 20 x 4 mm) pressed 0.3 mm by a 10 mm cube or a 6 mm sphere."""
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Box, Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    dtype = dtype or ti.f32
    mesh = structured_box((0.02, 0.02, H), cells)
    h = 0.02 / cells[0]
    w = World(batch=batch, dt=1e-8, substeps=substeps, dtype=dtype,
              requires_grad=requires_grad, segment=1)
    gel = w.add(FEMBody("gel", mesh, E=E, nu=0.3, density=1000.0, alpha=100.0))
    if cube:
        shape, half = Box((5e-3, 5e-3, 5e-3), dtype=dtype), 5e-3
    else:
        shape, half = Sphere(6e-3, dtype=dtype), 6e-3
    obj = w.add(KinematicRigid("object", shape, pose=(0, 0, H + half - 0.3e-3, 0, 0, 0)))
    pair = w.add_pair(ContactPair(gel, obj, kn=100 * E / h, kt=100 * E / h, mu=0.5))
    w.reset()
    w.set_dt(w.dt_limit)
    return w, gel, obj, pair, mesh


def timed(fn, reps, warmup=2):
    """Fastest of reps calls after `warmup` calls (the second step of a world still does
    one-off work). On a shared machine interference only adds time, so the minimum is the
    estimate of the cost itself; medians here drift by up to 2x between processes."""
    for _ in range(warmup):
        fn()
    ti.sync()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ti.sync()
        out.append(time.perf_counter() - t0)
    return min(out)


def bandwidth_gbs():
    a = np.ones(2**25, dtype=np.float32)
    b = np.empty_like(a)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best / 1e9


def launches(w) -> dict:
    per_sub = (sum(b.has_internal for b in w.bodies) + len(w.pairs) + len(w.joints)
               + sum(b.has_integrate for b in w.bodies))
    tracks = sum(b.pose_track is not None for b in w.bodies)
    # per control step: set_key + interpolate per driven body, one read-out per pair
    return {"per_substep": per_sub, "per_control_step_extra": 2 * tracks + len(w.pairs)}


def throughput(quick):
    """Rates of all batch sizes of a scene measured in interleaved rounds (fastest round
    each), so a slow spell of the machine cannot fall on one batch size only; then the
    elastic kernel of the same worlds against the atomic scatter."""
    out = {}
    k = 10
    for name, cells in SCENES.items():
        worlds = {B: scene(cells, B, k, cube=(name == "8k")) for B in (1, 16, 64)}
        steps = {B: 1 if (quick or (name == "8k" and B > 1)) else 3 for B in worlds}
        calls = {B: (lambda w=worlds[B][0], n=steps[B]: [w.step() for _ in range(n)])
                 for B in worlds}
        best = {B: timed(calls[B], 1) for B in worlds}
        for _ in range(2 if quick else 4):
            for B in worlds:
                best[B] = min(best[B], timed(calls[B], 1, warmup=0))
        mesh = worlds[1][4]
        rates = {B: B * k * steps[B] / best[B] for B in worlds}
        out[f"{name}_tets"] = int(mesh.n_tets)
        out[f"{name}_launches"] = launches(worlds[1][0])
        for B in worlds:
            if name == "8k":
                out[f"{name}_ns_per_tet_substep_B{B}"] = \
                    best[B] / (steps[B] * k * B * mesh.n_tets) * 1e9
            print(f"  {name} scene, B={B}: {rates[B]:.0f} env-substeps/s", flush=True)
        out[f"{name}_env_substeps_per_s"] = rates
        out[f"{name}_speedup_B64_over_B1"] = rates[64] / rates[1]
        for B in (1, 64):
            out.update(scatter_ratio(worlds[B][1], name, B, quick))
        del worlds, calls
    return out


# ----- DiffTactile-style reference ------------------------------------------------------
@ti.data_oriented
class DiffTactileStyle:
    """Per-substep state arrays (S + 1, n) with gradients, separate kernels per phase,
    and contact of the object's sample points against the gel's surface triangles found
    by the nearest triangle centroid (all triangles tested), then a point-in-triangle test
    against that triangle's plane; the force goes 1/3 to each triangle vertex."""

    def __init__(self, mesh, points, substeps, dt, kn, mass):
        from tacsuite.sim.fem import shape_gradients
        from tacsuite.sim.material import snh_params
        f = ti.f32
        self.S, self.n, self.m = substeps, mesh.n_nodes, mesh.n_tets
        self.P = len(points)
        tris = mesh.surface_tris
        self.nt = len(tris)
        V = lambda shape: ti.Vector.field(3, f, shape=shape, needs_grad=True)  # noqa: E731
        self.pos, self.vel, self.force = V((self.S + 1, self.n)), V((self.S + 1, self.n)), \
            V((self.S + 1, self.n))
        self.obj = ti.Vector.field(3, f, shape=self.P)
        self.obj.from_numpy(points.astype(np.float32))
        self.closest = ti.field(ti.i32, shape=(self.S, self.P))
        self.tri = ti.Vector.field(3, ti.i32, shape=self.nt)
        self.tri.from_numpy(tris.astype(np.int32))
        self.tets = ti.Vector.field(4, ti.i32, shape=self.m)
        self.tets.from_numpy(mesh.tets.astype(np.int32))
        V0, B, _ = shape_gradients(mesh.points, mesh.tets)
        self.Bm = ti.Matrix.field(3, 3, f, shape=self.m)
        self.Bm.from_numpy(B.astype(np.float32))
        self.V0 = ti.field(f, shape=self.m)
        self.V0.from_numpy(V0.astype(np.float32))
        self.mass = ti.field(f, shape=self.n)
        self.mass.from_numpy(mass.astype(np.float32))
        self.fixed = ti.field(f, shape=self.n)
        fx = np.zeros(self.n)
        fx[mesh.bottom_nodes] = 1
        self.fixed.from_numpy(fx.astype(np.float32))
        self.mu, self.lam = snh_params(E, 0.3)
        self.dt, self.kn = dt, kn
        self.pos.from_numpy(np.tile(mesh.points, (self.S + 1, 1, 1)).astype(np.float32))

    @ti.kernel
    def elastic(self, s: ti.i32):
        for e in range(self.m):
            t = self.tets[e]
            x0 = self.pos[s, t[0]]
            Ds = ti.Matrix.cols([self.pos[s, t[1]] - x0, self.pos[s, t[2]] - x0,
                                 self.pos[s, t[3]] - x0])
            F = Ds @ self.Bm[e]
            ic = (F * F).sum()
            J = F.determinant()
            c0, c1, c2 = F[:, 1].cross(F[:, 2]), F[:, 2].cross(F[:, 0]), F[:, 0].cross(F[:, 1])
            cof = ti.Matrix.cols([c0, c1, c2])
            P = self.mu * (1 - 1 / (ic + 1)) * F + (self.lam * (J - 1) - 0.75 * self.mu) * cof
            Hm = -self.V0[e] * P @ self.Bm[e].transpose()
            for k in ti.static(range(3)):
                self.force[s, t[k + 1]] += Hm[:, k]
            self.force[s, t[0]] += -(Hm[:, 0] + Hm[:, 1] + Hm[:, 2])

    @ti.kernel
    def find_closest(self, s: ti.i32):
        for p in range(self.P):
            q = self.obj[p]
            best, bi = 1e30, 0
            for j in range(self.nt):
                tr = self.tri[j]
                c = (self.pos[s, tr[0]] + self.pos[s, tr[1]] + self.pos[s, tr[2]]) / 3.0
                d = (q - c).norm_sqr()
                if d < best:
                    best, bi = d, j
            self.closest[s, p] = bi

    @ti.kernel
    def contact(self, s: ti.i32):
        for p in range(self.P):
            q = self.obj[p]
            tr = self.tri[self.closest[s, p]]
            a, b, c = self.pos[s, tr[0]], self.pos[s, tr[1]], self.pos[s, tr[2]]
            n = (b - a).cross(c - a).normalized()
            sdf = (q - a).dot(n)
            proj = q - sdf * n
            v0, v1, v2 = b - a, c - a, proj - a
            d00, d01, d11 = v0.dot(v0), v0.dot(v1), v1.dot(v1)
            d20, d21 = v2.dot(v0), v2.dot(v1)
            den = d00 * d11 - d01 * d01
            wb = (d11 * d20 - d01 * d21) / den
            wc = (d00 * d21 - d01 * d20) / den
            if wb >= 0 and wc >= 0 and wb + wc <= 1 and sdf < 0:
                fc = -self.kn * sdf * n / 3.0
                for k in ti.static(range(3)):
                    self.force[s, tr[k]] += -fc

    @ti.kernel
    def update_vel(self, s: ti.i32):
        for i in range(self.n):
            v = self.vel[s, i] + self.dt * self.force[s, i] / self.mass[i]
            self.vel[s + 1, i] = (1 - self.fixed[i]) * v

    @ti.kernel
    def update_pos(self, s: ti.i32):
        for i in range(self.n):
            self.pos[s + 1, i] = self.pos[s, i] + self.dt * self.vel[s + 1, i]

    def control_step(self):
        for s in range(self.S):
            self.elastic(s)
            self.find_closest(s)
            self.contact(s)
            self.update_vel(s)
            self.update_pos(s)


@ti.data_oriented
class AtomicScatter:
    """The elastic forces of a world's gel scattered straight into its node forces with
    atomic adds (12 per tet), the formulation the corner gather replaced."""

    def __init__(self, gel):
        self.gel = gel

    @ti.kernel
    def elastic(self, t: ti.i32):
        g = self.gel
        for b, e in ti.ndrange(g.B, g.m):
            tt = g.geo.tets[e]
            F = g.geo.tet_F(e, g.x[b, t, tt[0]], g.x[b, t, tt[1]], g.x[b, t, tt[2]],
                            g.x[b, t, tt[3]])
            Hm = g.geo.tet_forces(e, material.snh_stress(F, g.e_mu[b, e], g.e_lam[b, e]))
            for k in ti.static(range(3)):
                g.f[b, t, tt[k + 1]] += Hm[:, k]
            g.f[b, t, tt[0]] += -(Hm[:, 0] + Hm[:, 1] + Hm[:, 2])


def scatter_ratio(gel, name, B, quick):
    """Elastic-force kernel of one world's gel: corner gather against atomic scatter."""
    ref = AtomicScatter(gel)
    ours, theirs = np.inf, np.inf
    for r in range(3 if quick else 6):
        ours = min(ours, timed(lambda: gel.internal(0, 1, 0), 5, warmup=2 if r == 0 else 0))
        theirs = min(theirs, timed(lambda: ref.elastic(0), 5, warmup=2 if r == 0 else 0))
    print(f"  elastic forces, {name} scene, B={B}: gather {ours * 1e6:.0f} us, "
          f"atomic scatter {theirs * 1e6:.0f} us: x{theirs / ours:.2f}", flush=True)
    return {f"elastic_{name}_B{B}_us": {"gather": ours * 1e6, "atomic": theirs * 1e6}}


def reference_ratio(quick):
    k = 49
    w, gel, obj, pair, mesh = scene(SCENES["8k"], 1, k, cube=True)
    t_ours = timed(lambda: w.step(), 1 if quick else 3) / k
    g = np.linspace(-5e-3, 5e-3, 21)
    X, Y = np.meshgrid(g, g, indexing="ij")
    faces = []
    for z in (-5e-3, 5e-3):
        faces.append(np.stack([X.ravel(), Y.ravel(), np.full(X.size, z)], 1))
        faces.append(np.stack([X.ravel(), np.full(X.size, z), Y.ravel()], 1))
        faces.append(np.stack([np.full(X.size, z), X.ravel(), Y.ravel()], 1))
    pts = np.unique(np.concatenate(faces), axis=0) + [0, 0, H + 5e-3 - 0.3e-3]
    h = 0.02 / SCENES["8k"][0]
    ref = DiffTactileStyle(mesh, pts, k, w.dt, 100 * E / h * 2.5e-7, gel.nodal_masses()[0])
    t_ref = timed(ref.control_step, 1) / k
    return {"reference_object_points": int(len(pts)),
            "reference_surface_triangles": int(ref.nt),
            "substep_ours_ms": t_ours * 1e3, "substep_difftactile_style_ms": t_ref * 1e3,
            "speedup_vs_difftactile_style": t_ref / t_ours}


# ----- compile time and the offline cache -----------------------------------------------
CHILD = """
import time, json, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from bench_world import scene
w, *_ = scene((8, 8, 3), 1, 10, cube=False)
t1 = time.perf_counter(); w.step(); t2 = time.perf_counter(); w.step(); t3 = time.perf_counter()
print(json.dumps({{"build_s": t1 - t0, "first_step_s": t2 - t1, "repeat_step_s": t3 - t2}}))
"""


def compile_figures():
    root = str(Path(__file__).resolve().parent)
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, **compiler_env(offline_cache=True, offline_cache_file_path=cache)}
        for label in ("cold_cache", "warm_cache"):
            r = subprocess.run([sys.executable, "-c", CHILD.format(root=root)], env=env,
                               capture_output=True, text=True, check=True)
            out[label] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--out", default="runs/bench_world")
    args = ap.parse_args()
    ensure_init()
    res = {"machine_threads": os.cpu_count(), "dtype": "float32"}
    res.update(throughput(args.quick))
    for name in SCENES:
        r = res[f"{name}_env_substeps_per_s"]
        print(f"{name} scene ({res[f'{name}_tets']} tets): env-substeps/s B=1 {r[1]:.0f}, "
              f"B=16 {r[16]:.0f}, B=64 {r[64]:.0f}; B=64 / B=1 = "
              f"x{res[f'{name}_speedup_B64_over_B1']:.1f}")
    la = res["1k_launches"]
    print(f"kernel launches: {la['per_substep']} per substep (internal, contact, integrate), "
          f"+{la['per_control_step_extra']} per control step (poses, force read-out)")
    bw = bandwidth_gbs()
    # Bytes a float32 substep must move per env: per tet the element data (tets 16, Bm 36,
    # V0 4, 2 parameter copies 8), 4 node positions (48), 4 corner forces written and read
    # back by the node gather (96) and their corner indices (16); per node the integrator
    # reads x, v, f, X, mask, volume, rho, alpha (68)
    # and writes x, v, f (36).
    n_tets = res["8k_tets"]
    n_nodes = (SCENES["8k"][0] + 1) * (SCENES["8k"][1] + 1) * (SCENES["8k"][2] + 1)
    bytes_sub = n_tets * (16 + 36 + 4 + 8 + 48 + 96 + 16) + n_nodes * (68 + 36)
    bound_ns_per_tet = bytes_sub / (bw * 1e9) / n_tets * 1e9
    res.update({"bandwidth_GBs": bw, "bytes_per_env_substep": bytes_sub,
                "bandwidth_bound_ns_per_tet": bound_ns_per_tet,
                "8k_B64_over_bound": res["8k_ns_per_tet_substep_B64"] / bound_ns_per_tet})
    print(f"8k scene cost per tet per substep: B=1 {res['8k_ns_per_tet_substep_B1']:.1f} ns, "
          f"B=64 {res['8k_ns_per_tet_substep_B64']:.1f} ns; bandwidth bound "
          f"{bound_ns_per_tet:.1f} ns at {bw:.1f} GB/s; B=64 / bound = "
          f"{res['8k_B64_over_bound']:.1f}")
    res.update(reference_ratio(args.quick))
    print(f"explicit substep ({res['8k_tets']} tets vs cube): ours {res['substep_ours_ms']:.2f} "
          f"ms, DiffTactile-style ({res['reference_object_points']} object points x "
          f"{res['reference_surface_triangles']} triangles) "
          f"{res['substep_difftactile_style_ms']:.2f} ms: "
          f"x{res['speedup_vs_difftactile_style']:.1f}")
    res["compile"] = compile_figures()
    c, wm = res["compile"]["cold_cache"], res["compile"]["warm_cache"]
    print(f"world step, fresh process: first call {c['first_step_s']:.2f} s with an empty "
          f"offline cache, {wm['first_step_s']:.2f} s with it warm; repeat "
          f"{wm['repeat_step_s'] * 1e3:.1f} ms")
    out = Path(args.out)
    atomic.write_json(out / "result.json", res)
    fig, axes = plots.figure(ncols=3, width=4.2)
    ax = axes[0, 0]
    Bs = [1, 16, 64]
    for i, name in enumerate(SCENES):
        ax.plot(Bs, [res[f"{name}_env_substeps_per_s"][b] for b in Bs], "o-",
                color=plots.PALETTE[i], label=f"{res[f'{name}_tets']} tets")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(Bs, [str(b) for b in Bs])
    ax.set_xlabel("environments B")
    ax.set_ylabel("env-substeps per second")
    ax.legend(loc="upper left")
    ax = axes[0, 1]
    ax.bar(["ours", "DiffTactile-style"], [res["substep_ours_ms"],
                                           res["substep_difftactile_style_ms"]],
           color=plots.PALETTE[:2])
    ax.set_ylabel("ms per substep (8k tets, B=1)")
    ax = axes[0, 2]
    ax.bar(["empty cache", "warm cache"], [c["first_step_s"], wm["first_step_s"]],
           color=plots.PALETTE[2:4])
    ax.set_ylabel("first world step in a new process (s)")
    fig.tight_layout()
    atomic.savefig(out / "result.png", fig)
    plots.close(fig)
    print(f"wrote {out / 'result.json'}")


if __name__ == "__main__":
    main()
