"""A contact pair: the contact points of body a against the signed distance of body b.

For every environment and contact point c of `a` (an FEM body's surface nodes, a rigid
body's sample points) the pair evaluates the one contact law of `contact.py` in the
frame of `b`: the point's local position q = R^T (x - p), signed distance and normal
of b's shape there, and the velocity relative to b's material point, then applies the
force f (rotated back to the world) to a's point and -f at the same point to b (whose
torque about its origin follows). The friction anchor of each point is stored in b's
frame, so a point stuck to a moving, rotating body stays stuck.

Parameters per environment: kn (Pa/m), kd (Pa s/m), kt (Pa/m), mu. `force()` reads the
force of a on b at the last substep, `history` keeps it for every control step (host
records, written by `step` only). Differentiable output: "force" (B, 3) at a step.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact import penalty_friction
from tacsuite.sim.se3 import rot, rot_t
from tacsuite.sim.world import per_env

ti = import_taichi()


@ti.data_oriented
class ContactPair:
    kind = "contact"
    param_names = ("kn", "kd", "kt", "mu")
    outputs = ("force",)
    pose_track = None

    def __init__(self, a, b, kn, kd=0.0, kt=0.0, mu=0.0, name: str | None = None):
        self.a, self.b = a, b
        self.name = name or f"{a.name}-{b.name}"
        if "." in self.name:
            raise ValueError(f"a pair name must not contain '.', got {self.name!r}")
        self._init_values = dict(kn=kn, kd=kd, kt=kt, mu=mu)
        self.world = None

    def allocate(self, world) -> None:
        self.world = world
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B, self.P, self.fdtype, self.npf = B, self.a.n_points, f, world.npf
        self.anchor = ti.Vector.field(3, f, shape=(B, world.n_slots, self.P), needs_grad=rg)
        self.stuck = ti.field(f, shape=(B, world.n_slots, self.P), needs_grad=rg)
        self.force_acc = ti.Vector.field(3, f, shape=(B, world.n_slots), needs_grad=rg)
        S = lambda *shape: ti.field(f, shape=shape, needs_grad=rg)  # noqa: E731
        self.p_kn, self.p_kd, self.p_kt, self.p_mu = (S(B) for _ in range(4))
        self.c_kn, self.c_kd, self.c_kt, self.c_mu = (S(B, self.P) for _ in range(4))
        offset = float(getattr(self.a, "contact_offset", 0.0))
        if not (np.isfinite(offset) and offset >= 0):
            raise ValueError(f"contact_offset of {self.a.name!r} must be a non-negative "
                             f"distance in metres, got {offset!r}")
        self.offset = ti.field(f, shape=())
        self.offset[None] = offset
        self.values = {}
        self.history = []
        self.set_params(**self._init_values, _initial=True)

    # ----- parameters ----------------------------------------------------------------------
    def set_params(self, _initial: bool = False, **kw) -> None:
        """Set any of kn, kd, kt, mu: scalars or (B,) arrays."""
        unknown = set(kw) - set(self.param_names)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} of pair {self.name!r}; "
                             f"choose from {list(self.param_names)}")
        old = self.values
        self.values = {**old, **{k: per_env(k, v, self.B, 0.0) for k, v in kw.items()}}
        if not _initial:
            try:
                self.world._params_changed()
            except ValueError:
                self.values = old
                raise
        for fld, k in ((self.p_kn, "kn"), (self.p_kd, "kd"), (self.p_kt, "kt"), (self.p_mu, "mu")):
            fld.from_numpy(self.values[k].astype(self.npf))
        if not _initial:
            self.broadcast()

    def params(self) -> dict:
        return {k: v.copy() for k, v in self.values.items()}

    def load(self):
        from tacsuite.sim.world import ContactLoad
        area = self.a.geo.contact_area if hasattr(self.a, "geo") else self.a.point_areas()
        area = np.resize(area, self.P)
        v = self.values
        k = np.maximum(v["kn"], v["kt"])[:, None] * area[None, :]
        return ContactLoad(k, v["kd"][:, None] * area[None, :])

    @ti.kernel
    def broadcast(self):
        for b, c in ti.ndrange(self.B, self.P):
            self.c_kn[b, c] = self.p_kn[b]
            self.c_kd[b, c] = self.p_kd[b]
            self.c_kt[b, c] = self.p_kt[b]
            self.c_mu[b, c] = self.p_mu[b]

    def broadcast_grad(self) -> None:
        self.broadcast.grad()

    def zero_param_grads(self) -> None:
        for fld in (self.p_kn, self.p_kd, self.p_kt, self.p_mu, self.c_kn, self.c_kd,
                    self.c_kt, self.c_mu):
            fld.grad.fill(0)

    def zero_slot_grads(self) -> None:
        pass

    def param_grads(self) -> dict:
        return {k: f.grad.to_numpy().astype(np.float64) for k, f in
                (("kn", self.p_kn), ("kd", self.p_kd), ("kt", self.p_kt), ("mu", self.p_mu))}

    # ----- state ---------------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {"anchor": self.anchor, "stuck": self.stuck}

    def accumulator_fields(self) -> dict:
        return {"force": self.force_acc}

    def initial_state(self) -> dict:
        return {"anchor": np.zeros((self.B, self.P, 3)), "stuck": np.zeros((self.B, self.P))}

    def force(self) -> np.ndarray:
        """(B, 3) force of body a on body b at the last substep of the last step."""
        return self.world.io.read(self.force_acc, self.world.last_force_slot)

    def record(self, slot: int) -> None:
        self.history.append(self.world.io.read(self.force_acc, slot))

    def seed(self, name: str, slot: int, array) -> None:
        if name != "force":
            raise ValueError(f"pair {self.name!r} has no differentiable output {name!r}; "
                             f"it has ['force']")
        a = np.asarray(array, dtype=np.float64)
        if a.shape != (self.B, 3):
            raise ValueError(f"seed {self.name}.force must have shape ({self.B}, 3), got {a.shape}")
        self.world.io.write(self.force_acc.grad, slot - 1, a, add=True)

    # ----- the phase -----------------------------------------------------------------------
    @ti.func
    def point_force(self, e, t, g, c):
        """Point c of env e at slot t against b's shape at pose slot g: its position, the
        contact force on it (world frame) and the next friction anchor and stuck flag."""
        x, v = self.a.point_state(e, t, c)
        p, R = self.b.frame(e, t, g)
        q = rot_t(R, x - p)
        phi, n = self.b.local_sdf(e, q)
        phi -= self.offset[None]
        vl = rot_t(R, v - self.b.point_velocity(e, t, g, x))
        # Friction acts at the point's surface (a cable's, r towards b): the anchor is
        # that material point's place on b.
        fl, anchor, stuck = penalty_friction(
            phi, n, q - self.offset[None] * n, vl, self.anchor[e, t, c], self.stuck[e, t, c],
            self.a.point_area(c), self.c_kn[e, c], self.c_kd[e, c], self.c_kt[e, c],
            self.c_mu[e, c])
        return x, rot(R, fl), anchor, stuck

    @ti.kernel
    def apply(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for e, c in ti.ndrange(self.B, self.P):
            if c == 0:
                self.force_acc[e, t1] = ti.Vector.zero(self.fdtype, 3)
                self.b.clear_wrench(e, t1)
            x, f, anchor, stuck = self.point_force(e, t, g, c)
            self.a.add_point_force(e, t, c, f)
            self.b.add_wrench(e, t, g, x, -f)
            self.force_acc[e, t] += -f
            self.anchor[e, t1, c] = anchor
            self.stuck[e, t1, c] = stuck

    def apply_grad(self, t, t1, g) -> None:
        self.apply.grad(t, t1, g)
