"""A cable in the world: a discrete elastic rod with stretch and bend stiffness.

Nodes x_0..x_{n-1} at rest spacing l0 along a polyline; segment e_i = x_{i+1} - x_i,
unit tangent t_i. Energies, from physical parameters (Young's modulus E, radius r,
density rho; A = pi r^2, I = pi r^4 / 4):

    stretch  sum_i  (E A / 2 l0) (|e_i| - l0)^2
    bend     sum_i  (E I / 2 l0) |t_i - t_{i-1}|^2       (|t_i - t_{i-1}|^2 = theta^2 + O(theta^4))

so the bending energy converges to E I / 2 * integral of curvature^2 and the rod bends
as an Euler-Bernoulli beam. Lumped masses rho A l0 (half at the ends). Symplectic Euler
per substep with mass damping alpha (1/s): v' = v + dt (f/m + g - alpha v), x' = x + dt v'.
Explicit time stepping keeps every substep a smooth function of the state, so Taichi's
reverse of the force and integration kernels is the exact gradient (no constraint
iterations to unroll, as an XPBD chain would need); `stable_dt` bounds the substep by
the axial and bending wave speeds and the contact springs.

Fixed nodes stay at their initial positions; grasped nodes move rigidly with the
cable's action pose ("cable": (x, y, z, rotation vector) of a gripper frame, starting at
`grasp_pose`), interpolated over the substeps like a gel's bonded nodes.

Contact: nodes are the point side of contact pairs (the ground, rigid bodies, kinematic
indenters), each with area 2 r l0 (the rod's projected area per node), through the
world's one contact law with stick-slip friction. Contact acts at the rod's surface:
`contact_offset` is the radius, which every pair takes off the nodes' signed distance
(a cable resting on the ground has its centreline r above it).

Parameters per environment: E, density, alpha. Outputs: "x", "v".
"""

import math

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem import damped_stable_dt
from tacsuite.sim.point_body import PointBody
from tacsuite.sim.se3 import as_poses, rot, rotation_matrix
from tacsuite.sim.world import PoseTrack, per_env

ti = import_taichi()


@ti.data_oriented
class Cable(PointBody):
    """A cable through `points` (n, 3), equally spaced (the rest length l0 of every segment).

    Args:
        name: unique name in the world.
        points: (n, 3) rest node positions, n >= 3, equal spacing.
        radius: m (one value per body: it sets contact areas).
        E, density, alpha: Pa, kg/m^3, 1/s; scalars or (B,) arrays.
        fixed: indices of nodes held at their initial positions.
        grasped: indices of nodes carried by the action pose.
        grasp_pose: initial pose of the gripper frame (6,).
    """

    kind = "cable"
    param_names = ("E", "density", "alpha")

    def __init__(self, name: str, points, radius: float, E, density, alpha=0.0, fixed=(),
                 grasped=(), grasp_pose=(0, 0, 0, 0, 0, 0)):
        super().__init__(name)
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 3 or not np.all(np.isfinite(pts)):
            raise ValueError(f"points must be a finite (n, 3) array with n >= 3, got {pts.shape}")
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        if not np.all(seg > 0) or np.ptp(seg) > 1e-9 * seg.mean() + 1e-12:
            raise ValueError("cable points must be distinct and equally spaced (segment "
                             f"lengths {seg.min():.6g} .. {seg.max():.6g})")
        if not float(radius) > 0:
            raise ValueError(f"radius must be positive, got {radius!r}")
        n = len(pts)
        kinds = np.zeros(n, dtype=np.int32)
        for label, idx, code in (("fixed", fixed, 1), ("grasped", grasped, 2)):
            idx = np.asarray(idx, dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValueError(f"{label} node indices must lie in [0, {n}), got {idx.tolist()}")
            if np.any(kinds[idx] != 0):
                raise ValueError(f"node(s) {idx[kinds[idx] != 0].tolist()} are both fixed "
                                 "and grasped")
            kinds[idx] = code
        self.points0, self.n, self.n_points = pts, n, n
        self.l0, self.radius = float(seg.mean()), float(radius)
        self.contact_offset = self.radius
        self.area = math.pi * self.radius ** 2
        self.inertia = math.pi * self.radius ** 4 / 4
        self.kinds = kinds
        self.has_grasp = bool(np.any(kinds == 2))
        self._grasp_pose = grasp_pose
        self._init_values = dict(E=E, density=density, alpha=alpha)

    def allocate(self, world) -> None:
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B, self.dtype, self.npf = B, f, world.npf
        V = lambda: ti.Vector.field(3, f, shape=(B, world.n_slots, self.n), needs_grad=rg)  # noqa: E731
        self.x, self.v, self.f = V(), V(), V()
        # Python floats in kernels would be f32 constants: rod constants live in a field
        self.c_rod = ti.field(f, shape=4)  # l0, A, I, contact area per node
        self.c_rod.from_numpy(np.array([self.l0, self.area, self.inertia,
                                        2.0 * self.radius * self.l0], dtype=world.npf))
        self.kind_f = ti.field(ti.i32, shape=self.n)
        self.kind_f.from_numpy(self.kinds)
        self.mass_w = ti.field(f, shape=self.n)  # node mass / (rho A l0)
        w = np.ones(self.n)
        w[0] = w[-1] = 0.5
        self.mass_w.from_numpy(w.astype(world.npf))
        self.X = ti.Vector.field(3, f, shape=self.n)  # grasped nodes in the gripper frame
        P = self.pose_track = PoseTrack(world) if self.has_grasp else None
        self.initial_pose = as_poses(self._grasp_pose, B, f"grasp pose of {self.name!r}")
        if P is None:
            self.pose_track = None
            self.grip = PoseTrack(world)  # unused slots, keeps one kernel for both cases
        else:
            self.grip = P
        g0 = self.initial_pose[0]
        R0 = rotation_matrix(g0[3:])
        self.X.from_numpy(((self.points0 - g0[:3]) @ R0).astype(world.npf))
        S = lambda: ti.field(f, shape=B, needs_grad=rg)  # noqa: E731
        self.p_E, self.p_rho, self.p_alpha = S(), S(), S()
        self.values = {}
        self.set_params(**self._init_values, _initial=True)

    # ----- parameters ----------------------------------------------------------------------
    def set_params(self, _initial: bool = False, **kw) -> None:
        """Set any of E, density, alpha: scalars or (B,) arrays."""
        unknown = set(kw) - set(self.param_names)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} of {self.name!r}; "
                             f"choose from {list(self.param_names)}")
        vals = dict(self.values)
        for k, v in kw.items():
            vals[k] = per_env(k, v, self.B, 0.0, strict=k != "alpha")
        old = self.values
        self.values = vals
        if not _initial:
            try:
                self.world._params_changed()
            except ValueError:
                self.values = old
                raise
        for fld, k in ((self.p_E, "E"), (self.p_rho, "density"), (self.p_alpha, "alpha")):
            fld.from_numpy(vals[k].astype(self.npf))

    def params(self) -> dict:
        return {k: v.copy() for k, v in self.values.items()}

    def zero_param_grads(self) -> None:
        for fld in (self.p_E, self.p_rho, self.p_alpha):
            fld.grad.fill(0)

    def param_grads(self) -> dict:
        return {k: fld.grad.to_numpy().astype(np.float64) for k, fld in
                (("E", self.p_E), ("density", self.p_rho), ("alpha", self.p_alpha))}

    # ----- stability -----------------------------------------------------------------------
    def node_masses(self) -> np.ndarray:
        w = np.ones(self.n)
        w[0] = w[-1] = 0.5
        return self.values["density"][:, None] * self.area * self.l0 * w[None, :]

    def point_areas(self) -> np.ndarray:
        return np.full(self.n, 2.0 * self.radius * self.l0)

    def point_masses(self) -> np.ndarray:
        return self.node_masses()

    def stable_dt(self, loads) -> float:
        """Axial springs (4 EA/l0 per node) and the bending stencil (16 EI/l0^3 per node,
        the highest mode of the discrete fourth derivative), plus contact springs."""
        v = self.values
        m = self.node_masses()
        k = np.zeros((self.B, self.n))
        c = np.zeros((self.B, self.n))
        for side, load in loads:
            if side == "point":
                k += load.k_points
                c += load.c_points
        best = math.inf
        for b in range(self.B):
            k_el = v["E"][b] * (4 * self.area / self.l0 + 16 * self.inertia / self.l0 ** 3)
            w2 = float(np.max((k_el + k[b]) / m[b]))
            gamma = v["alpha"][b] + float(np.max(c[b] / m[b]))
            best = min(best, damped_stable_dt(w2, gamma))
        return best

    # ----- state ---------------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {"x": self.x, "v": self.v}

    def accumulator_fields(self) -> dict:
        return {"f": self.f}

    def set_initial(self, x=None, v=None) -> None:
        """Initial node positions/velocities (B, n, 3) or (n, 3), used by reset (a task
        lays the cable out differently each episode; the rest length stays l0). Fixed
        nodes are held where x puts them; grasped nodes keep their place in the gripper
        frame from `points`."""
        self.store_initial(self.n, x, v)

    def initial_state(self) -> dict:
        x = getattr(self, "_init_x", None)
        v = getattr(self, "_init_v", None)
        return {"x": np.tile(self.points0, (self.B, 1, 1)) if x is None else x,
                "v": np.zeros((self.B, self.n, 3)) if v is None else v}

    def strain(self) -> np.ndarray:
        """(B, n - 1) axial strain of every segment now."""
        x = self.positions()
        return np.linalg.norm(np.diff(x, axis=1), axis=2) / self.l0 - 1.0

    # ----- point side of contact pairs ---------------------------------------------------
    @ti.func
    def point_area(self, c):
        return self.c_rod[3]

    # ----- phases --------------------------------------------------------------------------
    @ti.kernel
    def internal(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for b, i in ti.ndrange(self.B, self.n - 1):
            l0 = self.c_rod[0]
            ks = self.p_E[b] * self.c_rod[1] / l0
            e = self.x[b, t, i + 1] - self.x[b, t, i]
            L = e.norm()
            fs = ks * (L - l0) * e / L
            self.f[b, t, i] += fs
            self.f[b, t, i + 1] += -fs
        for b, i in ti.ndrange(self.B, (1, self.n - 1)):
            kb = self.p_E[b] * self.c_rod[2] / self.c_rod[0]
            e1 = self.x[b, t, i] - self.x[b, t, i - 1]
            e2 = self.x[b, t, i + 1] - self.x[b, t, i]
            L1, L2 = e1.norm(), e2.norm()
            t1v, t2v = e1 / L1, e2 / L2
            d = t2v - t1v
            g1 = -kb * (d - d.dot(t1v) * t1v) / L1
            g2 = kb * (d - d.dot(t2v) * t2v) / L2
            # F = -dE/dx with dE/dx_{i-1} = -g1, dE/dx_i = g1 - g2, dE/dx_{i+1} = g2
            self.f[b, t, i - 1] += g1
            self.f[b, t, i] += g2 - g1
            self.f[b, t, i + 1] += -g2

    @ti.kernel
    def integrate(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for b, i in ti.ndrange(self.B, self.n):
            dt = self.world.dt_field[None]
            m = self.p_rho[b] * self.c_rod[1] * self.c_rod[0] * self.mass_w[i]
            v = self.v[b, t, i]
            vf = v + dt * (self.f[b, t, i] / m + self.world.gravity[None] - self.p_alpha[b] * v)
            xf = self.x[b, t, i] + dt * vf
            kd = self.kind_f[i]
            if kd == 1:
                vf = 0.0 * vf
                xf = self.x[b, t, i]
            elif kd == 2:
                X = self.X[i]
                y0 = rot(self.grip.R[b, g], X) + self.grip.p[b, g]
                xf = rot(self.grip.R[b, g + 1], X) + self.grip.p[b, g + 1]
                vf = (xf - y0) / dt
            self.v[b, t1, i] = vf
            self.x[b, t1, i] = xf
            self.f[b, t1, i] = 0.0 * vf
