"""Dynamic rigid bodies in the world: SE(3) pose, mass, inertia, gravity, contact wrench.

State per environment b at slot t (world slot fields of shape (B, n_slots)): centre-of-mass
position x, orientation quaternion q (principal body frame to world, `tacsuite.sim.quat`),
linear velocity v and world angular velocity w; the force and torque (about the centre
of mass) that pairs and joints accumulate during the substep starting at slot t.
Parameter per environment: density (mass = density * volume, principal inertia = mass *
the shape's inertia per unit mass), so a batch can sweep it.

Each substep is a symplectic kick-drift step of size dt:

    v' = v + dt (f / m + g),           x' = x + dt v'
    L  = R I R^T w + dt tau,           q' = free_rotor(q, L, dt),   w' = R' I^-1 R'^T L

`quat.free_rotor` integrates the torque-free (gyroscopic) motion by an exact splitting
over the principal axes: the world angular momentum is conserved exactly between kicks
and the kinetic energy does not drift, at any step size, with no implicit solve.

The body is both sides of contact pairs (`tacsuite.sim.world` protocol): its surface
sample points (`rigid_shapes`) touch other bodies' signed distances (the ground, another
rigid body), and other bodies' points (gel nodes, another body's samples) touch its own
signed distance. Kinematic rigid bodies, moved by pose actions, are the world's
`KinematicRigid` (`tacsuite.sim.kinematic`).
"""

# No `from __future__ import annotations`: Taichi reads kernel annotations as objects.

import numpy as np

from tacsuite.sim import quat
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem import damped_stable_dt
from tacsuite.sim.rigid_shapes import Shape
from tacsuite.sim.se3 import as_poses, rot
from tacsuite.sim.world import Body, per_env

ti = import_taichi()


@ti.data_oriented
class RigidBody(Body):
    """A dynamic rigid body in every environment of a world.

    Args:
        name: unique name in the world.
        shape: a `rigid_shapes.Shape` built with the world's dtype.
        density: kg/m^3, a scalar or one value per environment.
        pose: initial pose (x, y, z, rx, ry, rz) of the body frame (centre of mass,
            principal axes; for primitives the shape's own frame), or (B, 6).
        velocity, angular_velocity: initial (3,) or (B, 3), world frame.
    """

    kind = "rigid"
    is_point_side = True
    is_sdf_side = True
    has_internal = False
    param_names = ("density",)
    outputs = ("x", "q", "v", "w")

    def __init__(self, name: str, shape: Shape, density=1000.0, pose=(0, 0, 0, 0, 0, 0),
                 velocity=(0, 0, 0), angular_velocity=(0, 0, 0)):
        super().__init__(name)
        if not isinstance(shape, Shape):
            raise ValueError(f"body {name!r}: shape must be a rigid_shapes.Shape (make_shape), "
                             f"got {type(shape).__name__}")
        self.shape = shape
        self._init = dict(density=density, pose=pose, velocity=velocity,
                          angular_velocity=angular_velocity)

    # ----- allocation and parameters --------------------------------------------------------
    def allocate(self, world) -> None:
        if self.shape.dtype != world.dtype:
            raise ValueError(f"shape of {self.name!r} has dtype {self.shape.dtype}; build it "
                             f"with dtype={world.dtype} (the world's)")
        B, f, rg, S = world.batch, world.dtype, world.requires_grad, world.n_slots
        self.B, self.dtype, self.npf = B, f, world.npf
        V3 = lambda *shape: ti.Vector.field(3, f, shape=shape, needs_grad=rg)  # noqa: E731
        self.x, self.v, self.w = V3(B, S), V3(B, S), V3(B, S)
        self.q = ti.Vector.field(4, f, shape=(B, S), needs_grad=rg)
        self.force, self.torque = V3(B, S), V3(B, S)
        self.p_rho = ti.field(f, shape=B, needs_grad=rg)
        self.mass = ti.field(f, shape=B, needs_grad=rg)
        self.inertia = V3(B)
        self.ipm = ti.Vector.field(3, f, shape=())
        self.ipm[None] = self.shape.inertia_per_mass.tolist()
        self.volume = ti.field(f, shape=())
        self.volume[None] = self.shape.volume
        n = len(self.shape.points)
        self.n_points = n
        self.points = ti.Vector.field(3, f, shape=n)
        self.areas = ti.field(f, shape=n)
        self.points.from_numpy(self.shape.points.astype(self.npf))
        self.areas.from_numpy(self.shape.areas.astype(self.npf))
        self.values = {}
        self.set_params(density=self._init["density"], _initial=True)
        self.set_initial(self._init["pose"], self._init["velocity"],
                         self._init["angular_velocity"])

    def set_params(self, _initial: bool = False, **kw) -> None:
        unknown = set(kw) - set(self.param_names)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} of {self.name!r}; "
                             f"choose from {list(self.param_names)}")
        old = self.values
        self.values = {**old, **{k: per_env(f"{self.name}.{k}", v, self.B, 0.0, strict=True)
                                 for k, v in kw.items()}}
        if not _initial:
            try:
                self.world._params_changed()
            except ValueError:
                self.values = old
                raise
        self.p_rho.from_numpy(self.values["density"].astype(self.npf))
        self.broadcast()

    def params(self) -> dict:
        return {k: v.copy() for k, v in self.values.items()}

    def masses(self) -> np.ndarray:
        return self.values["density"] * self.shape.volume

    def inertias(self) -> np.ndarray:
        """(B, 3) principal moments of inertia (kg m^2)."""
        return self.masses()[:, None] * self.shape.inertia_per_mass[None, :]

    @ti.kernel
    def broadcast(self):
        for b in range(self.B):
            m = self.p_rho[b] * self.volume[None]
            self.mass[b] = m
            self.inertia[b] = m * self.ipm[None]

    def broadcast_grad(self) -> None:
        self.broadcast.grad()

    def zero_param_grads(self) -> None:
        for fld in (self.p_rho, self.mass, self.inertia):
            fld.grad.fill(0)

    def zero_slot_grads(self) -> None:
        pass

    def param_grads(self) -> dict:
        return {"density": self.p_rho.grad.to_numpy().astype(np.float64)}

    # ----- state ------------------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {"x": self.x, "q": self.q, "v": self.v, "w": self.w}

    def accumulator_fields(self) -> dict:
        return {"force": self.force, "torque": self.torque}

    def set_initial(self, pose=None, velocity=None, angular_velocity=None) -> None:
        """Initial pose (6,) or (B, 6) and velocities (3,) or (B, 3); used by reset."""
        if pose is not None:
            P = as_poses(pose, self.B, f"initial pose of {self.name!r}")
            self._x0 = P[:, :3].copy()
            self._q0 = np.stack([quat.np_from_rotation_vector(r) for r in P[:, 3:]])
        for key, val in (("_v0", velocity), ("_w0", angular_velocity)):
            if val is None:
                continue
            a = np.asarray(val, dtype=np.float64)
            if a.shape == (3,):
                a = np.tile(a, (self.B, 1))
            if a.shape != (self.B, 3) or not np.all(np.isfinite(a)):
                raise ValueError(f"initial {key[1:-1]} velocity of {self.name!r} must be finite "
                                 f"with shape (3,) or ({self.B}, 3), got {a.shape}")
            setattr(self, key, a)

    def initial_state(self) -> dict:
        return {"x": self._x0, "q": self._q0, "v": self._v0, "w": self._w0}

    def state(self) -> dict:
        """{'x': (B,3), 'q': (B,4), 'v': (B,3), 'w': (B,3)} at the world's current slot."""
        w = self.world
        return {k: w.io.read(f, w.state_slot) for k, f in self.state_fields().items()}

    def wrench(self) -> tuple[np.ndarray, np.ndarray]:
        """(force, torque about the centre of mass) (B, 3) of the last substep, without
        gravity: what contacts and joints exerted on the body."""
        w = self.world
        return w.io.read(self.force, w.last_force_slot), w.io.read(self.torque,
                                                                   w.last_force_slot)

    def energy(self) -> np.ndarray:
        """(B,) kinetic energy (J) of the current state, in float64."""
        s = self.state()
        out = 0.5 * self.masses() * np.sum(s["v"] ** 2, axis=1)
        inertia = self.inertias()
        for b in range(self.B):
            wb = quat.np_to_matrix(s["q"][b]).T @ s["w"][b]
            out[b] += 0.5 * wb @ (inertia[b] * wb)
        return out

    def seed(self, name: str, slot: int, array) -> None:
        fld = self.state_fields().get(name)
        if fld is None:
            super().seed(name, slot, array)
        a = np.asarray(array, dtype=np.float64)
        want = (self.B, fld.n)
        if a.shape != want:
            raise ValueError(f"seed {self.name}.{name} must have shape {want}, got {a.shape}")
        self.world.io.write(fld.grad, slot, a, add=True)

    # ----- stability --------------------------------------------------------------------------
    def point_areas(self) -> np.ndarray:
        return self.shape.areas.copy()

    def point_masses(self) -> np.ndarray:
        return np.repeat(self.masses()[:, None], self.n_points, axis=1)

    def effective_mass(self, lever: float) -> np.ndarray:
        """(B,) smallest mass a force at distance `lever` from the centre of mass sees."""
        inertia = self.inertias()
        return 1.0 / (1.0 / self.masses() + lever * lever / inertia.min(axis=1))

    def stable_dt(self, loads) -> float:
        """Contact springs act on the body through its mass and, at up to the shape's
        radius from the centre of mass, its smallest moment of inertia."""
        k = np.zeros(self.B)
        c = np.zeros(self.B)
        for side, load in loads:
            if side == "point":
                k += load.k_points.sum(axis=1)
                c += load.c_points.sum(axis=1)
            else:
                k += load.k_total
                c += load.c_total
        m = self.effective_mass(self.shape.radius)
        return min(damped_stable_dt(float(kb / mb), float(cb / mb))
                   for kb, cb, mb in zip(k, c, m, strict=True))

    # ----- phases -----------------------------------------------------------------------------
    @ti.kernel
    def integrate(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for b in range(self.B):
            h = self.world.dt_field[None]
            m = self.mass[b]
            inertia = self.inertia[b]
            inv_i = 1.0 / inertia
            v1 = self.v[b, t] + h * (self.force[b, t] / m + self.world.gravity[None])
            self.v[b, t1] = v1
            self.x[b, t1] = self.x[b, t] + h * v1
            q0 = self.q[b, t]
            L = quat.angular_momentum(q0, self.w[b, t], inertia) + h * self.torque[b, t]
            q1 = quat.free_rotor(q0, L, inv_i, h)
            self.q[b, t1] = q1
            self.w[b, t1] = quat.angular_velocity(q1, L, inv_i)
            self.force[b, t1] = 0.0 * v1
            self.torque[b, t1] = 0.0 * v1

    # ----- point side -------------------------------------------------------------------------
    @ti.func
    def point_state(self, b, t, c):
        y = self.x[b, t] + rot(quat.to_matrix(self.q[b, t]), self.points[c])
        return y, self.v[b, t] + self.w[b, t].cross(y - self.x[b, t])

    @ti.func
    def point_area(self, c):
        return self.areas[c]

    @ti.func
    def add_point_force(self, b, t, c, f):
        r = rot(quat.to_matrix(self.q[b, t]), self.points[c])
        self.force[b, t] += f
        self.torque[b, t] += r.cross(f)

    # ----- SDF side ---------------------------------------------------------------------------
    @ti.func
    def frame(self, b, t, g):
        return self.x[b, t], quat.to_matrix(self.q[b, t])

    @ti.func
    def local_sdf(self, b, p):
        return self.shape.local_sdf(p)

    @ti.func
    def point_velocity(self, b, t, g, y):
        return self.v[b, t] + self.w[b, t].cross(y - self.x[b, t])

    @ti.func
    def add_wrench(self, b, t, g, y, f):
        self.force[b, t] += f
        self.torque[b, t] += (y - self.x[b, t]).cross(f)

    @ti.func
    def add_torque(self, b, t, tau):
        self.torque[b, t] += tau

    @ti.func
    def clear_wrench(self, b, t1):
        self.force[b, t1] = 0.0 * self.force[b, t1]
        self.torque[b, t1] = 0.0 * self.torque[b, t1]
