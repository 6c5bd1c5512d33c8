"""A tetrahedral gel in the world: explicit dynamics bonded to an SE(3) sensor frame.

Symplectic Euler per substep, for each environment b and node i (state slot t -> t1,
pose slots g -> g + 1):

    f   = f_elastic(x_t) + f_beta(x_t, v_t) + f_contact         (accumulated in f[b, t])
    v'  = v_t + dt (f / m + gravity) - dt alpha (v_t - w_i),      x' = x_t + dt v'

with lumped masses m = rho * (nodal volume) and w_i = (y_i(g+1) - y_i(g)) / dt the
velocity of the sensor frame at the node's rest point, y_i(g) = R_g X_i + p_g. Mass
damping thus acts on the velocity relative to the sensor frame: a gel carried at
constant velocity (or spun at constant rate) is not dragged. Bonded nodes follow the
frame: x = y_i(g + 1), v = w_i. The frame pose is an action ("gel": (x, y, z, rotation
vector)), interpolated over the substeps by a `PoseTrack`.

Parameters per environment: E, nu (stable Neo-Hookean with exact small-strain E, nu),
density, alpha (1/s), beta (s, compiled in only when the body is created with
beta > 0). Per-element copies of them let the reverse pass accumulate parameter
adjoints without every thread contending for one address; one reduction sums them.

Elastic forces are two parallel loops of one launch: each tet writes its four corner
forces, then each node sums its corners (`GelGeometry.corner_incidence`). Scattering
with atomic adds instead costs a compare-and-swap loop per component on CPUs (about
2.5x the whole kernel at B = 64) and sums in a varying order; the gather has no float
atomics and sums each node in a fixed order. The reverse is written by hand in the same
two loops (corner values -K f_bar through the element stiffness product of
`fem.GelGeometry`, the code the quasi-static solver uses, then the gather into x_bar);
with beta > 0 Taichi's reverse of the kernel is used.
"""

import numpy as np

from tacsuite.sim import material
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem import GelGeometry, damped_stable_dt, element_omega2
from tacsuite.sim.mesh import TetMesh
from tacsuite.sim.point_body import PointBody
from tacsuite.sim.se3 import as_poses, rot, rotation_matrix
from tacsuite.sim.world import PoseTrack, per_env

ti = import_taichi()


@ti.data_oriented
class FEMBody(PointBody):
    kind = "fem"
    is_surface_side = True
    param_names = ("E", "nu", "density", "alpha", "beta")

    def __init__(self, name: str, mesh: TetMesh, E, nu, density, alpha=0.0, beta=0.0,
                 pose=(0, 0, 0, 0, 0, 0), fixed_nodes=None, symmetry_planes=()):
        super().__init__(name)
        if not isinstance(mesh, TetMesh):
            raise ValueError(f"mesh must be a TetMesh, got {type(mesh).__name__}")
        self.mesh = mesh
        self.use_beta = bool(np.any(np.asarray(beta, dtype=np.float64) > 0))
        self._init_values = dict(E=E, nu=nu, density=density, alpha=alpha, beta=beta)
        self._init_pose = pose
        self._fixed_nodes = fixed_nodes
        # Planes x_axis = 0 of the body frame a symmetric model is cut along (quarter pads):
        # that displacement component is fixed there, as in `fem.GelGeometry`.
        self.symmetry_planes = tuple(int(a) for a in symmetry_planes)
        if any(a not in (0, 1, 2) for a in self.symmetry_planes):
            raise ValueError(f"symmetry_planes must be axes 0, 1 or 2, got {symmetry_planes!r}")

    # ----- allocation ----------------------------------------------------------------------
    def allocate(self, world) -> None:
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B, self.dtype, self.npf = B, f, world.npf
        self.geo = GelGeometry(self.mesh, dtype=f, fixed_nodes=self._fixed_nodes,
                               symmetry_planes=self.symmetry_planes)
        self.n, self.m = self.geo.n, self.geo.m
        self.n_points = self.geo.k
        V = lambda: ti.Vector.field(3, f, shape=(B, world.n_slots, self.n), needs_grad=rg)  # noqa: E731
        self.x, self.v, self.f = V(), V(), V()
        S = lambda *shape: ti.field(f, shape=shape, needs_grad=rg)  # noqa: E731
        self.p_mu, self.p_lam, self.p_rho, self.p_alpha, self.p_beta = (S(B) for _ in range(5))
        self.e_mu, self.e_lam, self.e_beta = (S(B, self.m) for _ in range(3))
        # Per-corner element forces (and, in reverse, position adjoints) gathered per node.
        self.h = ti.Vector.field(3, f, shape=(B, 4 * self.m), needs_grad=rg)
        self.inc_ptr, self.inc_corner = self.geo.corner_incidence()
        self.n_rho, self.n_alpha = S(B, self.n), S(B, self.n)
        self.pose_track = PoseTrack(world)
        self.frame = self.pose_track
        self.initial_pose = as_poses(self._init_pose, B, f"initial pose of {self.name!r}")
        self._init_x = self._init_v = None
        self._omega2_cache = {}
        self.values = {}
        self.set_params(**self._init_values, _initial=True)

    # ----- parameters ----------------------------------------------------------------------
    def set_params(self, _initial: bool = False, **kw) -> None:
        """Set any of E, nu, density, alpha, beta: scalars or (B,) arrays."""
        unknown = set(kw) - set(self.param_names)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} of {self.name!r}; "
                             f"choose from {list(self.param_names)}")
        vals = dict(self.values)
        B = self.B
        for k, v in kw.items():
            if k == "E" or k == "density":
                vals[k] = per_env(k, v, B, 0.0, strict=True)
            elif k == "nu":
                vals[k] = per_env(k, v, B, None)
            else:
                vals[k] = per_env(k, v, B, 0.0)
        if np.any(vals["beta"] > 0) and not self.use_beta:
            raise ValueError(f"beta > 0 needs {self.name!r} created with beta > 0 (the "
                             "stiffness-damping term is compiled in only then)")
        lame = [material.snh_params(e, nu) for e, nu in zip(vals["E"], vals["nu"], strict=True)]
        old = self.values
        self.values = vals
        if not _initial:
            try:
                self.world._params_changed()
            except ValueError:
                self.values = old
                raise
        mu_s = np.array([a for a, _ in lame])
        lam_s = np.array([b for _, b in lame])
        for fld, arr in ((self.p_mu, mu_s), (self.p_lam, lam_s), (self.p_rho, vals["density"]),
                         (self.p_alpha, vals["alpha"]), (self.p_beta, vals["beta"])):
            fld.from_numpy(arr.astype(self.npf))
        if not _initial:
            self.broadcast()

    def params(self) -> dict:
        return {k: v.copy() for k, v in self.values.items()}

    @ti.kernel
    def broadcast(self):
        for b, e in ti.ndrange(self.B, self.m):
            self.e_mu[b, e] = self.p_mu[b]
            self.e_lam[b, e] = self.p_lam[b]
            self.e_beta[b, e] = self.p_beta[b]
        for b, i in ti.ndrange(self.B, self.n):
            self.n_rho[b, i] = self.p_rho[b]
            self.n_alpha[b, i] = self.p_alpha[b]

    def broadcast_grad(self) -> None:
        self.broadcast.grad()

    def zero_param_grads(self) -> None:
        for fld in (self.p_mu, self.p_lam, self.p_rho, self.p_alpha, self.p_beta, self.e_mu,
                    self.e_lam, self.e_beta, self.n_rho, self.n_alpha):
            fld.grad.fill(0)

    def zero_slot_grads(self) -> None:
        pass

    def param_grads(self) -> dict:
        g = {k: f.grad.to_numpy().astype(np.float64) for k, f in
             (("mu", self.p_mu), ("lam", self.p_lam), ("density", self.p_rho),
              ("alpha", self.p_alpha), ("beta", self.p_beta))}
        dE, dnu = np.zeros(self.B), np.zeros(self.B)
        for b in range(self.B):
            (mE, mnu), (lE, lnu) = material.snh_params_jacobian(self.values["E"][b],
                                                                self.values["nu"][b])
            dE[b] = g["mu"][b] * mE + g["lam"][b] * lE
            dnu[b] = g["mu"][b] * mnu + g["lam"][b] * lnu
        return {"E": dE, "nu": dnu, "density": g["density"], "alpha": g["alpha"],
                "beta": g["beta"]}

    # ----- stability -----------------------------------------------------------------------
    def nodal_masses(self) -> np.ndarray:
        """(B, n) lumped masses."""
        return self.values["density"][:, None] * self.geo.node_volume[None, :]

    def point_masses(self) -> np.ndarray:
        return self.nodal_masses()[:, self.geo.contact_nodes] if len(self.geo.contact_nodes) \
            else np.ones((self.B, 1))

    def stable_dt(self, loads) -> float:
        masses = np.maximum(self.nodal_masses(), 1e-300)
        k_node = np.zeros((self.B, self.n))
        c_node = np.zeros((self.B, self.n))
        idx = self.geo.contact_nodes
        for side, load in loads:
            if side == "point" and len(idx):
                np.add.at(k_node, (slice(None), idx), load.k_points)
                np.add.at(c_node, (slice(None), idx), load.c_points)
            elif side == "surface":
                k_node += load.k_nodes
                c_node += load.c_nodes
        v = self.values
        best = np.inf
        for b in range(self.B):
            key = float(v["nu"][b])
            if key not in self._omega2_cache:
                self._omega2_cache[key] = element_omega2(self.mesh, 1.0, key, 1.0)
            w2 = self._omega2_cache[key] * v["E"][b] / v["density"][b]
            w2 += float(np.max(k_node[b] / masses[b]))
            gamma = v["alpha"][b] + v["beta"][b] * w2 + float(np.max(c_node[b] / masses[b]))
            best = min(best, damped_stable_dt(w2, gamma))
        return best

    # ----- state ---------------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {"x": self.x, "v": self.v}

    def accumulator_fields(self) -> dict:
        return {"f": self.f}

    def set_initial(self, x=None, v=None, pose=None) -> None:
        """Initial node positions/velocities (B, n, 3) or (n, 3), frame pose; used by reset."""
        if pose is not None:
            self.initial_pose = as_poses(pose, self.B, f"initial pose of {self.name!r}")
        self.store_initial(self.n, x, v)

    def rest_positions(self, pose=None) -> np.ndarray:
        """(B, n, 3) nodes of the undeformed gel carried by the frame pose (default: initial)."""
        P = self.initial_pose if pose is None else as_poses(pose, self.B, "pose")
        X = self.mesh.points
        return np.stack([X @ rotation_matrix(p[3:]).T + p[:3] for p in P])

    def initial_state(self) -> dict:
        x = self.rest_positions() if self._init_x is None else self._init_x
        v = np.zeros((self.B, self.n, 3)) if self._init_v is None else self._init_v
        return {"x": x, "v": v}

    # ----- point side of contact pairs (the surface nodes) ------------------------------
    @ti.func
    def point_node(self, c):
        return self.geo.cidx[c]

    @ti.func
    def point_area(self, c):
        return self.geo.carea[c]

    # ----- surface side of surface pairs (its boundary triangles) ------------------------
    @ti.func
    def node_state(self, b, t, i):
        return self.x[b, t, i], self.v[b, t, i]

    @ti.func
    def add_node_force(self, b, t, i, force):
        self.f[b, t, i] += force

    def surface_areas(self) -> np.ndarray:
        """(n,) lumped boundary area of every node (zero inside), m^2."""
        tris = self.mesh.surface_tris
        X = self.mesh.points
        a = 0.5 * np.linalg.norm(np.cross(X[tris[:, 1]] - X[tris[:, 0]],
                                          X[tris[:, 2]] - X[tris[:, 0]]), axis=1)
        out = np.zeros(self.n)
        np.add.at(out, tris.reshape(-1), np.repeat(a / 3.0, 3))
        return out

    # ----- phases --------------------------------------------------------------------------
    @ti.kernel
    def internal(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        """Element forces per corner, then their sum per node into f (two parallel loops in
        one launch: Taichi runs them in order)."""
        for b, e in ti.ndrange(self.B, self.m):
            tt = self.geo.tets[e]
            x0, x1 = self.x[b, t, tt[0]], self.x[b, t, tt[1]]
            x2, x3 = self.x[b, t, tt[2]], self.x[b, t, tt[3]]
            F = self.geo.tet_F(e, x0, x1, x2, x3)
            mu, lam = self.e_mu[b, e], self.e_lam[b, e]
            P = material.snh_stress(F, mu, lam)
            if ti.static(self.use_beta):
                v0, v1 = self.v[b, t, tt[0]], self.v[b, t, tt[1]]
                v2, v3 = self.v[b, t, tt[2]], self.v[b, t, tt[3]]
                dF = ti.Matrix.cols([v1 - v0, v2 - v0, v3 - v0]) @ self.geo.Bm[e]
                P += self.e_beta[b, e] * material.snh_stress_differential(F, dF, mu, lam)
            self.store_corners(b, e, self.geo.tet_forces(e, P))
        for b, i in ti.ndrange(self.B, self.n):
            self.f[b, t, i] += self.corner_sum(b, i)

    @ti.func
    def store_corners(self, b, e, H):
        """h at the 4 corners of tet e: columns of H for nodes 1..3, minus their sum for 0."""
        for k in ti.static(range(3)):
            self.h[b, 4 * e + k + 1] = H[:, k]
        self.h[b, 4 * e] = -(H[:, 0] + H[:, 1] + H[:, 2])

    @ti.func
    def corner_sum(self, b, i):
        s = ti.Vector.zero(self.dtype, 3)
        for q in range(self.inc_ptr[i], self.inc_ptr[i + 1]):
            s += self.h[b, self.inc_corner[q]]
        return s

    @ti.kernel
    def elastic_adjoint(self, t: ti.i32):
        """Reverse of `internal` without beta: -K f_bar per corner, gathered into x_bar;
        mu_bar, lam_bar per element.

        P is linear in (mu, lam): dP/dmu and dP/dlam are the stress at (1, 0) and (0, 1).
        """
        for b, e in ti.ndrange(self.B, self.m):
            tt = self.geo.tets[e]
            F = self.geo.tet_F(e, self.x[b, t, tt[0]], self.x[b, t, tt[1]],
                               self.x[b, t, tt[2]], self.x[b, t, tt[3]])
            g0, g1 = self.f.grad[b, t, tt[0]], self.f.grad[b, t, tt[1]]
            g2, g3 = self.f.grad[b, t, tt[2]], self.f.grad[b, t, tt[3]]
            self.store_corners(b, e, self.geo.tet_force_differential(
                e, F, g0, g1, g2, g3, self.e_mu[b, e], self.e_lam[b, e]))
            # f = tet_forces(P(mu, lam)) is linear in P: f_bar . df/dmu = -V0 (P_mu B^T) : G
            M = ti.Matrix.cols([g1 - g0, g2 - g0, g3 - g0]) @ self.geo.Bm[e]
            one, zero = 1.0 + 0.0 * F[0, 0], 0.0 * F[0, 0]
            P_mu = material.snh_stress(F, one, zero)
            P_lam = material.snh_stress(F, zero, one)
            self.e_mu.grad[b, e] += -self.geo.V0[e] * (P_mu * M).sum()
            self.e_lam.grad[b, e] += -self.geo.V0[e] * (P_lam * M).sum()
        for b, i in ti.ndrange(self.B, self.n):
            self.x.grad[b, t, i] += self.corner_sum(b, i)

    def internal_grad(self, t, t1, g) -> None:
        if self.use_beta:
            self.h.grad.fill(0)
            self.internal.grad(t, t1, g)
        else:
            self.elastic_adjoint(t)

    @ti.kernel
    def integrate(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for b, i in ti.ndrange(self.B, self.n):
            dt = self.world.dt_field[None]
            X = self.geo.X[i]
            y0 = rot(self.frame.R[b, g], X) + self.frame.p[b, g]
            y1 = rot(self.frame.R[b, g + 1], X) + self.frame.p[b, g + 1]
            w = (y1 - y0) / dt
            m = self.n_rho[b, i] * self.geo.node_vol[i]
            v = self.v[b, t, i]
            vf = (v + dt * (self.f[b, t, i] / m + self.world.gravity[None])
                  - dt * self.n_alpha[b, i] * (v - w))
            xf = self.x[b, t, i] + dt * vf
            fx = self.geo.fixed[i]
            self.v[b, t1, i] = fx * w + (1.0 - fx) * vf
            self.x[b, t1, i] = fx * y1 + (1.0 - fx) * xf
            self.f[b, t1, i] = 0.0 * vf

    def energy(self) -> np.ndarray:
        """(B, 2) kinetic and elastic energy of the current state (J), in float64."""
        x, v = self.positions(), self.velocities()
        kin = 0.5 * np.einsum("bi,bij,bij->b", self.nodal_masses(), v, v)
        if not hasattr(self, "_scratch"):
            self._scratch = ti.Vector.field(3, self.dtype, shape=self.n)
            self._mu0, self._lam0 = ti.field(self.dtype, shape=()), ti.field(self.dtype, shape=())
        el = np.zeros(self.B)
        mu, lam = self.p_mu.to_numpy(), self.p_lam.to_numpy()
        for b in range(self.B):
            self._scratch.from_numpy(x[b].astype(self.npf))
            self._mu0[None], self._lam0[None] = float(mu[b]), float(lam[b])
            el[b] = self.geo.elastic_energy(self._scratch, self._mu0, self._lam0)
        return np.stack([kin, el], axis=1)
