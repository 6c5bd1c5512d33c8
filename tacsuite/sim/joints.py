"""Joints between dynamic rigid bodies (or a body and the fixed world), as stiff penalties.

`Hinge(name, body, anchor, axis, other=None, limits=None, damping=0)` lets `body` turn
about `axis` through `anchor` relative to `other` (None: the world). Anchor and axis are
given in world coordinates in the bodies' initial poses; the joint stores them in each
body's frame when it is added to the world. Each substep it applies

    F   = -k (p_a - p_b) - c (v_a - v_b)                 at the two anchor points
    tau = k_r (u_a x u_b) - c_r (w_rel - (w_rel.u) u)    keeps the axes aligned
          - damping (w_rel.u) u                          hinge friction (N m s/rad)
          + k_r (lo - theta) u  if theta < lo  (likewise above hi), with damping c_r

to `body` and the opposite to `other`, where theta is the hinge angle relative to the
initial configuration. Stiffnesses default to values stable at the world's substep:
k = m_eff (OMEGA_DT / dt)^2 with m_eff the smallest mass a force at the anchor sees
(likewise k_r with the smallest moment of inertia), critically damped (zeta = 1). The
joint's stretch under a load F is F/k, far below any geometric scale at the default
(for the hinged lid of the tests 1e-6 of its length).
"""

import math

import numpy as np

from tacsuite.sim import quat
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem import damped_stable_dt
from tacsuite.sim.rigid import RigidBody
from tacsuite.sim.se3 import rot

ti = import_taichi()

OMEGA_DT = 0.2     # joint-mode frequency times dt at the default stiffness
ZETA = 1.0         # damping ratio of the penalty springs


def _unit(v, name) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)) or not np.linalg.norm(v) > 0:
        raise ValueError(f"{name} must be a finite non-zero 3-vector, got {v.tolist()}")
    return v / np.linalg.norm(v)


@ti.data_oriented
class Hinge:
    kind = "hinge"
    param_names = ()
    outputs = ()
    pose_track = None

    def __init__(self, name: str, body: RigidBody, anchor, axis, other: RigidBody = None,
                 limits=None, damping: float = 0.0, stiffness: float | None = None,
                 angular_stiffness: float | None = None):
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"a joint name must be a non-empty string without '.', got {name!r}")
        for role, b in (("body", body), ("other", other)):
            if b is not None and not isinstance(b, RigidBody):
                raise ValueError(f"hinge {name!r}: {role} must be a dynamic RigidBody, got "
                                 f"{type(b).__name__}")
        if other is body:
            raise ValueError(f"hinge {name!r}: a body cannot be hinged to itself")
        self.name, self.a, self.b = name, body, other
        self.has_other = other is not None
        self.anchor = np.asarray(anchor, dtype=np.float64)
        if self.anchor.shape != (3,) or not np.all(np.isfinite(self.anchor)):
            raise ValueError(f"hinge {name!r}: anchor must be a finite 3-vector, got {anchor!r}")
        self.axis = _unit(axis, f"hinge {name!r}: axis")
        if limits is not None:
            lo, hi = (float(v) for v in limits)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= 0.0 <= hi):
                raise ValueError(f"hinge {name!r}: limits must be [lo, hi] in radians with "
                                 f"lo <= 0 <= hi (the initial angle is 0), got {limits!r}")
            limits = (lo, hi)
        self.limits = limits
        self.damping = float(damping)
        if not (self.damping >= 0 and np.isfinite(self.damping)):
            raise ValueError(f"hinge {name!r}: damping must be >= 0 (N m s/rad), got {damping!r}")
        for key, val in (("stiffness", stiffness), ("angular_stiffness", angular_stiffness)):
            if val is not None and not (float(val) > 0 and np.isfinite(float(val))):
                raise ValueError(f"hinge {name!r}: {key} must be positive, got {val!r}")
        self._k, self._kr = stiffness, angular_stiffness
        self.world = None

    # ----- allocation ----------------------------------------------------------------------
    def _local(self, body):
        """Anchor, axis and a reference vector normal to it, in `body`'s initial frame."""
        B = self.B
        ref = np.cross(self.axis, [1.0, 0, 0] if abs(self.axis[0]) < 0.9 else [0, 1.0, 0])
        ref /= np.linalg.norm(ref)
        if body is None:
            return (np.tile(self.anchor, (B, 1)), np.tile(self.axis, (B, 1)),
                    np.tile(ref, (B, 1)))
        st = body.initial_state()
        R = [quat.np_to_matrix(q) for q in st["q"]]
        return (np.stack([R[e].T @ (self.anchor - st["x"][e]) for e in range(B)]),
                np.stack([R[e].T @ self.axis for e in range(B)]),
                np.stack([R[e].T @ ref for e in range(B)]))

    def allocate(self, world) -> None:
        for b in (self.a, self.b):
            if b is not None and b.world is not world:
                raise ValueError(f"hinge {self.name!r}: body {b.name!r} is not in this world")
        self.world = world
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B = B
        V = lambda: ti.Vector.field(3, f, shape=B)  # noqa: E731
        self.la, self.ua, self.ra, self.lb, self.ub, self.rb = (V() for _ in range(6))
        for flds, body in (((self.la, self.ua, self.ra), self.a),
                           ((self.lb, self.ub, self.rb), self.b)):
            for fld, arr in zip(flds, self._local(body), strict=True):
                fld.from_numpy(arr.astype(world.npf))
        lever = np.linalg.norm(self.la.to_numpy().astype(np.float64), axis=1).max()
        m_eff = 1.0 / (1.0 / self.a.effective_mass(lever) + (
            0.0 if self.b is None else 1.0 / self.b.effective_mass(
                np.linalg.norm(self.lb.to_numpy().astype(np.float64), axis=1).max())))
        i_eff = 1.0 / (1.0 / self.a.inertias().min(axis=1) + (
            0.0 if self.b is None else 1.0 / self.b.inertias().min(axis=1)))
        w = OMEGA_DT / world.dt
        k = m_eff * w * w if self._k is None else np.full(B, float(self._k))
        kr = i_eff * w * w if self._kr is None else np.full(B, float(self._kr))
        self.m_eff, self.i_eff = m_eff, i_eff
        self.values = {"k": k, "c": 2 * ZETA * np.sqrt(k * m_eff),
                       "kr": kr, "cr": 2 * ZETA * np.sqrt(kr * i_eff)}
        self.coef = ti.Vector.field(4, f, shape=B)
        self.coef.from_numpy(np.stack([self.values[n] for n in ("k", "c", "kr", "cr")],
                                      1).astype(world.npf))
        self.hinge = ti.Vector.field(3, f, shape=())   # damping, lo, hi
        lo, hi = self.limits if self.limits else (-math.inf, math.inf)
        self.hinge[None] = [self.damping, max(lo, -1e30), min(hi, 1e30)]
        self.force_acc = ti.Vector.field(3, f, shape=(B, world.n_slots), needs_grad=rg)

    def stable_dt(self) -> float:
        v = self.values
        return min(min(damped_stable_dt(float(k / m), float(c / m)),
                       damped_stable_dt(float(kr / i), float(cr / i)))
                   for k, c, kr, cr, m, i in zip(v["k"], v["c"], v["kr"], v["cr"],
                                                  self.m_eff, self.i_eff, strict=True))

    # ----- world protocol ------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {}

    def accumulator_fields(self) -> dict:
        return {"force": self.force_acc}

    def initial_state(self) -> dict:
        return {}

    def params(self) -> dict:
        return {}

    def param_grads(self) -> dict:
        return {}

    def broadcast(self) -> None:
        pass

    def broadcast_grad(self) -> None:
        pass

    def zero_param_grads(self) -> None:
        pass

    def zero_slot_grads(self) -> None:
        pass

    def reaction(self) -> np.ndarray:
        """(B, 3) force the joint exerted on `body` at the last substep."""
        w = self.world
        return w.io.read(self.force_acc, w.last_force_slot)

    def angle(self) -> np.ndarray:
        """(B,) hinge angle (rad) of the current state relative to the initial one."""
        ra = self.ra.to_numpy().astype(np.float64)
        rb, ub = self.rb.to_numpy().astype(np.float64), self.ub.to_numpy().astype(np.float64)
        qa = self.a.state()["q"]
        qb = None if self.b is None else self.b.state()["q"]
        out = np.empty(self.B)
        for e in range(self.B):
            Ra = quat.np_to_matrix(qa[e])
            Rb = np.eye(3) if qb is None else quat.np_to_matrix(qb[e])
            u, r_a, r_b = Rb @ ub[e], Ra @ ra[e], Rb @ rb[e]
            out[e] = math.atan2(u @ np.cross(r_b, r_a), r_b @ r_a)
        return out

    # ----- the phase -----------------------------------------------------------------------
    @ti.func
    def _side_b(self, e, t, g):
        """Anchor point, its velocity, axis, reference vector, angular velocity of side b."""
        p, u, r = self.lb[e], self.ub[e], self.rb[e]
        v, w = 0.0 * p, 0.0 * p
        if ti.static(self.has_other):
            xb, Rb = self.b.frame(e, t, g)
            p = xb + rot(Rb, self.lb[e])
            u, r = rot(Rb, self.ub[e]), rot(Rb, self.rb[e])
            v = self.b.point_velocity(e, t, g, p)
            w = self.b.w[e, t]
        return p, v, u, r, w

    @ti.kernel
    def apply(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for e in range(self.B):
            self.force_acc[e, t1] = 0.0 * self.force_acc[e, t1]
            k, c, kr, cr = self.coef[e][0], self.coef[e][1], self.coef[e][2], self.coef[e][3]
            xa, Ra = self.a.frame(e, t, g)
            pa = xa + rot(Ra, self.la[e])
            va = self.a.point_velocity(e, t, g, pa)
            ua, ra = rot(Ra, self.ua[e]), rot(Ra, self.ra[e])
            pb, vb, ub, rb, wb = self._side_b(e, t, g)
            f = -k * (pa - pb) - c * (va - vb)
            wrel = self.a.w[e, t] - wb
            spin = wrel.dot(ub)
            tau = kr * ua.cross(ub) - cr * (wrel - spin * ub) - self.hinge[None][0] * spin * ub
            theta = ti.atan2(ub.dot(rb.cross(ra)), rb.dot(ra))
            lo, hi = self.hinge[None][1], self.hinge[None][2]
            if theta < lo:
                tau += (kr * (lo - theta) - cr * spin) * ub
            elif theta > hi:
                tau += (kr * (hi - theta) - cr * spin) * ub
            self.a.add_wrench(e, t, g, pa, f)
            self.a.add_torque(e, t, tau)
            if ti.static(self.has_other):
                self.b.add_wrench(e, t, g, pb, -f)
                self.b.add_torque(e, t, -tau)
            self.force_acc[e, t] += f

    def apply_grad(self, t, t1, g) -> None:
        self.apply.grad(t, t1, g)
