"""Rigid indenters moved kinematically, seen by the gel through a signed distance.

Contact interface (what every indenter, analytic or mesh-based, provides)
-------------------------------------------------------------------------
An indenter is a ``@ti.data_oriented`` object with

- ``dtype``: the Taichi float type of its fields (the simulator's dtype);
- ``pos``: a Taichi vector field of shape ``(n_poses,)`` holding the world position of the
  indenter's reference point at each pose index (translation only; the shape is fixed in
  its own axes). Simulators index it with the step number, so an explicit rollout of T
  steps needs ``n_poses >= T + 1``; quasi-static solves use pose 0. Created with
  ``needs_grad=True`` when the owner asks for gradients with respect to the poses;
- ``@ti.func sdf(self, x, t) -> (phi, n)``: signed distance (m, negative inside) from the
  world point ``x`` to the surface at pose ``t`` and the unit outward normal there
  (the gradient of ``phi``);
- ``@ti.func sdf_hessian(self, x, t) -> 3x3 matrix``: the gradient of ``n`` (the Hessian
  of ``phi``). The quasi-static Newton solver and its adjoint use it; an indenter whose
  surface is flat where it touches may return zeros;
- ``set_pose(p, t=0)`` / ``set_poses(array (n_poses, 3))`` / ``poses() -> ndarray``.

`Indenter` implements the pose handling; subclasses implement ``local_sdf(p)`` and
``local_hessian(p)`` in the indenter frame (``p = x - pos[t]``).
"""

from __future__ import annotations

import numpy as np

from tacsuite.sim.backend import ensure_init, import_taichi

ti = import_taichi()

TINY = 1e-12


@ti.data_oriented
class Indenter:
    kind = "indenter"

    def __init__(self, n_poses: int = 1, dtype=None, needs_grad: bool = False):
        ensure_init()
        if int(n_poses) < 1:
            raise ValueError(f"n_poses must be >= 1, got {n_poses}")
        self.dtype = dtype or ti.f32
        self.n_poses = int(n_poses)
        self.pos = ti.Vector.field(3, self.dtype, shape=self.n_poses, needs_grad=needs_grad)
        # Shape sizes live in a field so float64 simulators see them at full precision.
        self.size = ti.field(self.dtype, shape=4)

    def _set_size(self, *values) -> None:
        for k, v in enumerate(values):
            self.size[k] = float(v)

    def set_pose(self, p, t: int = 0) -> None:
        p = np.asarray(p, dtype=np.float64).reshape(3)
        if not np.all(np.isfinite(p)):
            raise ValueError(f"indenter position must be finite, got {p}")
        self.pos[t] = p.tolist()

    def set_poses(self, poses) -> None:
        poses = np.asarray(poses, dtype=np.float64)
        if poses.shape != (self.n_poses, 3):
            raise ValueError(f"poses must have shape ({self.n_poses}, 3), got {poses.shape}")
        self.pos.from_numpy(poses.astype(self._np()))

    def poses(self) -> np.ndarray:
        return self.pos.to_numpy().astype(np.float64)

    def _np(self):
        return np.float64 if self.dtype == ti.f64 else np.float32

    @ti.func
    def sdf(self, x, t):
        return self.local_sdf(x - self.pos[t])

    @ti.func
    def sdf_hessian(self, x, t):
        return self.local_hessian(x - self.pos[t])

    def describe(self) -> dict:
        return {"kind": self.kind}


def _positive(name, v) -> float:
    v = float(v)
    if not (v > 0 and np.isfinite(v)):
        raise ValueError(f"{name} must be positive and finite, got {v!r}")
    return v


@ti.data_oriented
class Sphere(Indenter):
    """Sphere of radius R centred at pos."""

    kind = "sphere"

    def __init__(self, radius: float, **kw):
        super().__init__(**kw)
        self.radius = _positive("radius", radius)
        self._set_size(self.radius)

    @ti.func
    def local_sdf(self, p):
        r = ti.max(p.norm(), TINY)
        return r - self.size[0], p / r

    @ti.func
    def local_hessian(self, p):
        r = ti.max(p.norm(), TINY)
        n = p / r
        return (ti.Matrix.identity(self.dtype, 3) - n.outer_product(n)) / r

    def describe(self) -> dict:
        return {"kind": self.kind, "radius": self.radius}


@ti.data_oriented
class Capsule(Indenter):
    """Segment from pos - half_length e_z to pos + half_length e_z, swept by radius R."""

    kind = "capsule"

    def __init__(self, radius: float, half_length: float, **kw):
        super().__init__(**kw)
        self.radius = _positive("radius", radius)
        self.half_length = _positive("half_length", half_length)
        self._set_size(self.radius, self.half_length)

    @ti.func
    def local_sdf(self, p):
        q = ti.Vector([0.0, 0.0, ti.math.clamp(p[2], -self.size[1], self.size[1])],
                      self.dtype)
        d = p - q
        r = ti.max(d.norm(), TINY)
        return r - self.size[0], d / r

    @ti.func
    def local_hessian(self, p):
        q = ti.Vector([0.0, 0.0, ti.math.clamp(p[2], -self.size[1], self.size[1])],
                      self.dtype)
        d = p - q
        r = ti.max(d.norm(), TINY)
        n = d / r
        h = ti.Matrix.identity(self.dtype, 3) - n.outer_product(n)
        if ti.abs(p[2]) < self.size[1]:
            ez = ti.Vector([0.0, 0.0, 1.0], self.dtype)
            h -= ez.outer_product(ez)
        return h / r

    def describe(self) -> dict:
        return {"kind": self.kind, "radius": self.radius, "half_length": self.half_length}


@ti.data_oriented
class Box(Indenter):
    """Axis-aligned box with half extents (hx, hy, hz) centred at pos."""

    kind = "box"

    def __init__(self, half_extents, **kw):
        super().__init__(**kw)
        he = np.asarray(half_extents, dtype=np.float64).reshape(3)
        for v in he:
            _positive("half_extents", v)
        self.half_extents = tuple(float(v) for v in he)
        self._set_size(*self.half_extents)

    @ti.func
    def local_sdf(self, p):
        b = ti.Vector([self.size[0], self.size[1], self.size[2]])
        q = ti.abs(p) - b
        qp = ti.max(q, 0.0)
        # n is assigned whole, never entry by entry: Taichi 1.7.4's reverse pass of entry
        # stores into a local vector inside a branch prints "Loading variable before
        # anything is stored" warnings while it compiles (harmless, but noise).
        phi = ti.cast(0.0, self.dtype)
        n = ti.Vector.zero(self.dtype, 3)
        if qp.max() > 0:
            phi = qp.norm()
            n = ti.Vector([ti.math.sign(p[j]) * qp[j] / phi for j in ti.static(range(3))])
        else:
            k = 0
            if q[1] > q[k]:
                k = 1
            if q[2] > q[k]:
                k = 2
            phi = q[k]
            s = ti.cast(1.0 if p[k] >= 0 else -1.0, self.dtype)
            n = ti.Vector([s if k == j else ti.cast(0.0, self.dtype)
                           for j in ti.static(range(3))])
        return phi, n

    @ti.func
    def local_hessian(self, p):
        b = ti.Vector([self.size[0], self.size[1], self.size[2]])
        q = ti.abs(p) - b
        qp = ti.max(q, 0.0)
        h = ti.Matrix.zero(self.dtype, 3, 3)
        if qp.max() > 0:
            phi = qp.norm()
            n = ti.Vector.zero(self.dtype, 3)
            for k in ti.static(range(3)):
                n[k] = ti.math.sign(p[k]) * qp[k] / phi
            h = ti.Matrix.identity(self.dtype, 3) - n.outer_product(n)
            for k in ti.static(range(3)):
                if q[k] <= 0:
                    h[k, k] -= 1.0
            h /= phi
        return h

    def describe(self) -> dict:
        return {"kind": self.kind, "half_extents": list(self.half_extents)}


@ti.data_oriented
class Cylinder(Indenter):
    """Flat-ended cylinder of radius a, axis e_z, length 2*half_height, centred at pos."""

    kind = "cylinder"

    def __init__(self, radius: float, half_height: float, **kw):
        super().__init__(**kw)
        self.radius = _positive("radius", radius)
        self.half_height = _positive("half_height", half_height)
        self._set_size(self.radius, self.half_height)

    @ti.func
    def _frame(self, p):
        rho = ti.max(ti.sqrt(p[0] * p[0] + p[1] * p[1]), TINY)
        er = ti.Vector([p[0] / rho, p[1] / rho, 0.0], self.dtype)
        ez = ti.Vector([0.0, 0.0, 1.0 if p[2] >= 0 else -1.0], self.dtype)
        return rho, er, ez

    @ti.func
    def local_sdf(self, p):
        rho, er, ez = self._frame(p)
        q0 = rho - self.size[0]
        q1 = ti.abs(p[2]) - self.size[1]
        phi = ti.cast(0.0, self.dtype)
        n = ti.Vector.zero(self.dtype, 3)
        if q0 > 0 and q1 > 0:
            phi = ti.sqrt(q0 * q0 + q1 * q1)
            n = (q0 * er + q1 * ez) / phi
        elif q0 > q1:
            phi, n = q0, er
        else:
            phi, n = q1, ez
        return phi, n

    @ti.func
    def local_hessian(self, p):
        rho, er, ez = self._frame(p)
        q0 = rho - self.size[0]
        q1 = ti.abs(p[2]) - self.size[1]
        et = ti.Vector([-er[1], er[0], 0.0], self.dtype)
        h = ti.Matrix.zero(self.dtype, 3, 3)
        if q0 > 0 and q1 > 0:
            phi = ti.sqrt(q0 * q0 + q1 * q1)
            n = (q0 * er + q1 * ez) / phi
            h = ((er.outer_product(er) + ez.outer_product(ez) - n.outer_product(n)) / phi
                 + n.dot(er) / rho * et.outer_product(et))
        elif q0 > q1:
            h = et.outer_product(et) / rho
        return h

    def describe(self) -> dict:
        return {"kind": self.kind, "radius": self.radius, "half_height": self.half_height}


def make_indenter(kind: str, radius: float, **kw) -> Indenter:
    """Indenter by name: sphere (radius), cylinder (flat end of radius), box (half width)."""
    if kind == "sphere":
        return Sphere(radius, **kw)
    if kind == "cylinder":
        return Cylinder(radius, half_height=radius, **kw)
    if kind == "box":
        return Box((radius, radius, radius), **kw)
    if kind == "capsule":
        return Capsule(radius, half_length=radius, **kw)
    raise ValueError(f"unknown indenter {kind!r}; choose sphere, cylinder, box or capsule")
