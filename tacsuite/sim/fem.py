"""Linear-tetrahedron gel: geometry shared by the explicit and the quasi-static solvers.

`GelGeometry` turns a `TetMesh` into Taichi fields: rest positions, inverse rest edge
matrices, rest volumes, lumped (volume-weighted) nodal volumes, the per-degree-of-freedom
Dirichlet mask (bottom bonded to the sensor frame, optional symmetry planes) and the
contact candidates (surface nodes with their lumped surface area). Its kernels compute
internal forces, the tangent stiffness applied to a vector and the elastic energy of the
stable Neo-Hookean law in `material.py`; both solvers use exactly these.

`critical_timestep` is the explicit stability bound: by the element eigenvalue inequality
the largest frequency of the lumped-mass mesh is at most the largest element frequency,
so dt_crit = 2/omega_max computed per element (exact for the linearised system).
"""

import math

import numpy as np

from tacsuite.sim import material
from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import TetMesh

ti = import_taichi()


def np_float(dtype):
    return np.float64 if dtype == ti.f64 else np.float32


def shape_gradients(points: np.ndarray, tets: np.ndarray):
    """Rest volume V0 (M,) and shape-function gradients g (M, 4, 3) of each tet."""
    x = points[tets]
    Dm = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=2)
    V0 = np.linalg.det(Dm) / 6.0
    B = np.linalg.inv(Dm)                     # rows are grad N_1..N_3
    g = np.concatenate([-B.sum(axis=1, keepdims=True), B], axis=1)
    return V0, B, g


def node_areas(points: np.ndarray, tris: np.ndarray, n_nodes: int) -> np.ndarray:
    """Lumped surface area per node: a third of each adjacent surface triangle."""
    p = points
    area = 0.5 * np.linalg.norm(np.cross(p[tris[:, 1]] - p[tris[:, 0]],
                                         p[tris[:, 2]] - p[tris[:, 0]]), axis=1)
    out = np.zeros(n_nodes)
    for k in range(3):
        np.add.at(out, tris[:, k], area / 3.0)
    return out


def element_omega2(mesh: TetMesh, E: float, nu: float, density: float) -> float:
    """Largest squared angular frequency (rad^2/s^2) over the lumped-mass elements."""
    mu, lam = material.lame(E, nu)
    V0, _, g = shape_gradients(mesh.points, mesh.tets)
    # Element stiffness K[a i, b j] = V (lam g_ai g_bj + mu g_aj g_bi + mu d_ij g_a.g_b).
    gg = np.einsum("eai,ebi->eab", g, g)
    K = (lam * np.einsum("eai,ebj->eaibj", g, g) + mu * np.einsum("eaj,ebi->eaibj", g, g)
         + mu * np.einsum("eab,ij->eaibj", gg, np.eye(3))) * V0[:, None, None, None, None]
    K = K.reshape(len(V0), 12, 12)
    m = density * V0 / 4.0
    return float(np.linalg.eigvalsh(K / m[:, None, None])[:, -1].max())


def damped_stable_dt(w2: float, gamma: float) -> float:
    """Stability limit of symplectic Euler with explicit damping, x'' + gamma x' + w2 x = 0.

    The update (v' = v - dt (gamma v + w2 x), x' = x + dt v') is stable iff
    dt^2 w2 + 2 dt gamma < 4, i.e. dt < (2/w)(sqrt(1 + xi^2) - xi), xi = gamma/(2w).
    """
    if not w2 > 0:
        return math.inf if gamma <= 0 else 2.0 / gamma
    w = math.sqrt(w2)
    xi = gamma / (2.0 * w)
    return 2.0 / w * (math.sqrt(1.0 + xi * xi) - xi)


def critical_timestep(mesh: TetMesh, E: float, nu: float, density: float,
                      node_stiffness: np.ndarray | None = None, beta: float = 0.0,
                      alpha: float = 0.0, node_damping: np.ndarray | None = None) -> float:
    """Largest stable explicit substep (s) of the linearised lumped-mass system.

    node_stiffness, node_damping: extra diagonal spring (N/m) and dashpot (N s/m) per node,
    e.g. contact penalties and contact damping. beta: stiffness-proportional damping
    (its rate on the stiffest mode is beta w^2); alpha: mass-proportional damping (1/s).
    """
    w2 = element_omega2(mesh, E, nu, density)
    nodal_m = np.zeros(mesh.n_nodes)
    V0 = shape_gradients(mesh.points, mesh.tets)[0]
    for k in range(4):
        np.add.at(nodal_m, mesh.tets[:, k], density * V0 / 4.0)
    nodal_m = np.maximum(nodal_m, 1e-300)
    if node_stiffness is not None:
        w2 += float(np.max(node_stiffness / nodal_m))
    gamma = alpha + beta * w2
    if node_damping is not None:
        gamma += float(np.max(node_damping / nodal_m))
    return damped_stable_dt(w2, gamma)


@ti.data_oriented
class GelGeometry:
    """Taichi fields of a tet mesh plus the elastic kernels of both solvers."""

    def __init__(self, mesh: TetMesh, dtype=None, symmetry_planes=(), contact_nodes=None,
                 fixed_nodes=None):
        ensure_init()
        if not isinstance(mesh, TetMesh):
            raise ValueError(f"mesh must be a TetMesh, got {type(mesh).__name__}")
        self.mesh = mesh
        self.dtype = dtype or ti.f32
        if self.dtype not in (ti.f32, ti.f64):
            raise ValueError(f"dtype must be ti.f32 or ti.f64, got {self.dtype}")
        self.npf = np_float(self.dtype)
        self.n, self.m = mesh.n_nodes, mesh.n_tets
        V0, B, _ = shape_gradients(mesh.points, mesh.tets)
        self.X = ti.Vector.field(3, self.dtype, shape=self.n)
        self.tets = ti.Vector.field(4, ti.i32, shape=self.m)
        self.Bm = ti.Matrix.field(3, 3, self.dtype, shape=self.m)
        self.V0 = ti.field(self.dtype, shape=self.m)
        self.node_vol = ti.field(self.dtype, shape=self.n)
        self.fixed = ti.Vector.field(3, self.dtype, shape=self.n)   # 1 where a dof is fixed
        self.X.from_numpy(mesh.points.astype(self.npf))
        self.tets.from_numpy(mesh.tets)
        self.Bm.from_numpy(B.astype(self.npf))
        self.V0.from_numpy(V0.astype(self.npf))
        nv = np.zeros(self.n)
        for k in range(4):
            np.add.at(nv, mesh.tets[:, k], V0 / 4.0)
        self.node_volume = nv
        self.node_vol.from_numpy(nv.astype(self.npf))
        fixed = np.zeros((self.n, 3))
        fixed[mesh.bottom_nodes if fixed_nodes is None else fixed_nodes] = 1.0
        tris = mesh.surface_tris
        for axis in symmetry_planes:     # plane x_axis = 0: that displacement is zero
            on = np.abs(mesh.points[:, axis]) < 1e-12 * np.ptp(mesh.points[:, axis])
            fixed[on, axis] = 1.0
            tris = tris[~np.all(on[tris], axis=1)]
        self.fixed_np = fixed
        self.fixed.from_numpy(fixed.astype(self.npf))
        self.symmetry_planes = tuple(symmetry_planes)
        area = node_areas(mesh.points, tris, self.n)
        if contact_nodes is None:
            contact_nodes = np.unique(tris)
            contact_nodes = contact_nodes[fixed[contact_nodes].sum(axis=1) < 3]
        contact_nodes = np.asarray(contact_nodes, dtype=np.int32)
        self.contact_nodes = contact_nodes
        self.k = max(len(contact_nodes), 1)
        self.cidx = ti.field(ti.i32, shape=self.k)
        self.carea = ti.field(self.dtype, shape=self.k)
        self.cidx.from_numpy(np.resize(contact_nodes, self.k).astype(np.int32))
        ca = area[contact_nodes] if len(contact_nodes) else np.zeros(1)
        self.contact_area = ca
        self.carea.from_numpy(ca.astype(self.npf))
        self.h_min = float(np.min(3 * V0 / _max_face_area(mesh.points, mesh.tets)))

    def corner_incidence(self):
        """(ptr, corner) fields of the element corners at each node, corner = 4 e + a for
        node a of tet e; node i's corners are corner[ptr[i]:ptr[i + 1]], in tet order.

        Kernels that write per-corner values and gather them per node add no float atomics
        (a CAS loop each on CPUs) and sum each node in a fixed order (deterministic)."""
        if not hasattr(self, "_incidence"):
            flat = self.mesh.tets.reshape(-1)
            counts = np.bincount(flat, minlength=self.n)
            ptr = ti.field(ti.i32, shape=self.n + 1)
            corner = ti.field(ti.i32, shape=4 * self.m)
            ptr.from_numpy(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
            corner.from_numpy(np.argsort(flat, kind="stable").astype(np.int32))
            self._incidence = (ptr, corner)
        return self._incidence

    # ----- element physics (the one copy both solvers use) ------------------------------
    @ti.func
    def tet_F(self, e, x0, x1, x2, x3):
        """Deformation gradient of tet e with nodes at x0..x3."""
        return ti.Matrix.cols([x1 - x0, x2 - x0, x3 - x0]) @ self.Bm[e]

    @ti.func
    def tet_forces(self, e, P):
        """Nodal forces -V0 P grad N_a of tet e: columns for nodes 1..3 (node 0: -their sum)."""
        return -self.V0[e] * P @ self.Bm[e].transpose()

    @ti.func
    def tet_force_differential(self, e, F, d0, d1, d2, d3, mu, lam):
        """Nodal force increments (as in tet_forces) for node displacements d0..d3: -K d."""
        dF = ti.Matrix.cols([d1 - d0, d2 - d0, d3 - d0]) @ self.Bm[e]
        return self.tet_forces(e, material.snh_stress_differential(F, dF, mu, lam))

    @ti.func
    def tet_energy(self, e, F, mu, lam):
        return self.V0[e] * material.snh_energy(F, mu, lam)

    # ----- elastic kernels on a position field `x` of shape (n,) ------------------------
    @ti.func
    def deformation_gradient(self, x: ti.template(), e):
        t = self.tets[e]
        return self.tet_F(e, x[t[0]], x[t[1]], x[t[2]], x[t[3]])

    @ti.func
    def scatter_H(self, out: ti.template(), e, H):
        t = self.tets[e]
        for k in ti.static(range(3)):
            out[t[k + 1]] += H[:, k]
        out[t[0]] -= H[:, 0] + H[:, 1] + H[:, 2]

    @ti.func
    def scatter(self, out: ti.template(), e, P):
        """Add the nodal forces -V0 P grad N_a of tet e into out."""
        self.scatter_H(out, e, self.tet_forces(e, P))

    @ti.kernel
    def internal_force(self, x: ti.template(), out: ti.template(), mu: ti.template(),
                       lam: ti.template()):
        """out += elastic force on each node at positions x (mu, lam: 0-d fields)."""
        for e in range(self.m):
            F = self.deformation_gradient(x, e)
            self.scatter(out, e, material.snh_stress(F, mu[None], lam[None]))

    @ti.func
    def stiffness_product(self, x: ti.template(), p: ti.template(), out: ti.template(),
                          mu: ti.template(), lam: ti.template()):
        """out += K p, K = -d(force)/dx the elastic tangent stiffness at x (a parallel loop
        of the kernel that inlines it)."""
        for e in range(self.m):
            F = self.deformation_gradient(x, e)
            t = self.tets[e]
            H = self.tet_force_differential(e, F, p[t[0]], p[t[1]], p[t[2]], p[t[3]],
                                            mu[None], lam[None])
            self.scatter_H(out, e, -H)

    @ti.kernel
    def stiffness_diagonal(self, x: ti.template(), out: ti.template(), mu: ti.template(),
                           lam: ti.template()):
        """out += diag(K) (Jacobi preconditioner)."""
        for e in range(self.m):
            F = self.deformation_gradient(x, e)
            B = self.Bm[e]
            t = self.tets[e]
            for a in ti.static(range(4)):
                g = ti.Vector([0.0, 0.0, 0.0], self.dtype)
                if ti.static(a == 0):
                    g = -(B[0, :] + B[1, :] + B[2, :])
                else:
                    g = B[a - 1, :]
                for k in ti.static(range(3)):
                    dF = ti.Matrix.zero(self.dtype, 3, 3)
                    for j in ti.static(range(3)):
                        dF[k, j] = g[j]
                    dP = material.snh_stress_differential(F, dF, mu[None], lam[None])
                    out[t[a]][k] += self.V0[e] * (dP @ g)[k]

    @ti.kernel
    def tet_stress(self, x: ti.template(), out: ti.template(), mu: ti.template(),
                   lam: ti.template()):
        """First Piola stress of every tet (out: 3x3 matrix field of shape (m,))."""
        for e in range(self.m):
            out[e] = material.snh_stress(self.deformation_gradient(x, e), mu[None], lam[None])

    @ti.kernel
    def elastic_energy(self, x: ti.template(), mu: ti.template(), lam: ti.template()) -> ti.f64:
        total = ti.cast(0.0, ti.f64)
        for e in range(self.m):
            F = self.deformation_gradient(x, e)
            total += ti.cast(self.tet_energy(e, F, mu[None], lam[None]), ti.f64)
        return total


def _max_face_area(points, tets):
    x = points[tets]
    faces = [(1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2)]
    areas = [0.5 * np.linalg.norm(np.cross(x[:, b] - x[:, a], x[:, c] - x[:, a]), axis=1)
             for a, b, c in faces]
    return np.max(areas, axis=0)
