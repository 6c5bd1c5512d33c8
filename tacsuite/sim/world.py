"""A world of bodies stepped together in a batch of environments, with reverse mode.

    world = World(batch=B, dt=2e-6, substeps=10, dtype=ti.f64, requires_grad=True)
    gel = world.add(FEMBody("gel", mesh, E=5e4, nu=0.3, density=1000, alpha=50))
    ball = world.add(KinematicRigid("ball", Sphere(4e-3, dtype=ti.f64), pose=(0, 0, 8e-3, 0, 0, 0)))
    press = world.add_pair(ContactPair(gel, ball, kn=1e10, kd=1e4, kt=1e10, mu=0.5))
    world.reset()
    for t in range(T):
        world.step({"ball": poses[t]})          # (6,) or (B, 6): x, y, z, rotation vector
        forces.append(press.force())            # (B, 3) force of the gel on the ball
    grads = world.backward({T: {"press.force": dL_dF}})

Batch
-----
Every field has a leading environment axis of length B (B = 1 is the plain case), so
the B environments of a batch run in the same kernel launches. Parameters (material,
damping, contact, friction) are per environment: `body.set_params(E=array_of_B)`.

Time
----
`step(actions)` advances every environment by one control step of `substeps` substeps
of length `dt`. Each substep runs the phases

    internal forces per body -> contact pairs -> (joints) -> integrate per body

Force accumulators of the slot a substep writes into are zeroed by the kernels that
write that slot (so no separate clearing launch): a substep reads state slot t and
writes slot t1.

State slots. Slot-indexed fields have shape (B, n_slots, ...). With requires_grad the
world keeps a segment of `segment` control steps in memory, n_slots = segment *
substeps + 1, and slot t1 = t + 1 (nothing is overwritten, as reverse mode needs);
without it n_slots = 2 and the slots alternate. Kinematic poses live in pose slots g
(0..segment * substeps within the segment, or 0..substeps without gradients); kernels
get (t, t1, g): the start state slot, the end state slot and the start pose slot (the
end pose is g + 1).

Reverse mode. A checkpoint (every body's and pair's state) is saved on the host at
each segment start; `backward(seeds)` walks the segments from last to first, reloads
the checkpoint, recomputes the segment's forward pass into the slots (host records,
e.g. `ContactPair.history`, are not touched, so nothing is counted twice), seeds the
adjoints of the losses' inputs, runs every phase's reverse kernel in reverse order and
carries the state adjoint into the previous segment. Device memory is therefore bounded
by one segment for any horizon; host memory grows by one checkpoint per segment.
Gradients flow through every control step. `backward` returns
`{"actions": {body: (T, B, 6)}, "params": {name: {param: (B,)}},
"initial": {body: {...}}}`.

Body protocol (what a new body type implements; see `FEMBody`, `KinematicRigid`)
--------------------------------------------------------------------------------
A body is a `@ti.data_oriented` subclass of `Body` with a unique `name`. Fields are
created in `allocate(world)` (called by `world.add`), sized by `world.batch`,
`world.n_slots`, `world.n_pose_slots`, typed `world.dtype`, with
`needs_grad=world.requires_grad`. It provides:

- phase kernels, each launched once per substep for all environments:
  `internal(t, t1, g)` (internal forces into its accumulator of slot t; zero the slot t1
  accumulators), `integrate(t, t1, g)` (state slot t -> t1), and their reverses
  `internal_grad`, `integrate_grad` (default: Taichi's `.grad` of the kernel). Set
  `has_internal` / `has_integrate` False to skip a phase (no launch);
- `state_fields()`: {name: slot field} of its state (what a checkpoint saves);
  `accumulator_fields()`: slot fields zeroed at segment starts;
- `initial_state()`: {name: (B, ...) numpy} it starts from on `reset`;
- `param_names`, `set_params(**values)`, `params()`, `broadcast()` (copies per-env
  parameters into per-element fields), `param_fields()`: {name: (B,) field},
  `param_grads()`: {param: (B,) numpy} after the reverse pass, `broadcast_grad()`;
- `stable_dt(loads)`: the largest stable substep given the contact loads the pairs put
  on it (`ContactLoad`); bodies that integrate nothing return inf;
- `seed(name, slot, array)` / `outputs`: add dL/d(output) at a slot, for losses on its
  outputs (e.g. "x", "v" of an FEM body);
- `pose_track`: a `PoseTrack` if actions drive it (kinematic SE(3) poses), else None.

A body may be a point side of contact pairs (it has contact points), an SDF side
(contact points are tested against its signed distance), or both:

- point side: `n_points`, and Taichi funcs `point_state(b, t, c) -> (x, v)`,
  `point_area(c)`, `add_point_force(b, t, c, f)`, plus `point_mass(b, c)` in numpy for
  the stability bound (`point_masses() -> (B, n_points)`), and `contact_offset` (m): how
  far outside its points the body's surface lies (a cable's radius; 0 for nodes,
  particles and rigid surface points), taken off every pair's signed distance;
- SDF side: Taichi funcs `frame(b, t, g) -> (p, R)` (origin and rotation of its frame at
  the substep), `local_sdf(b, q) -> (phi, n)` (signed distance and outward unit normal
  at local point q), `point_velocity(b, t, g, x)` (world velocity of the body's material
  point at world x), `add_wrench(b, t, g, x, f)` (force f applied at world point x;
  torque about the frame origin), `clear_wrench(b, t1)`.

- surface side (a deforming triangle surface, for `SurfacePair`): `is_surface_side`,
  `mesh.surface_tris` (outward, counter-clockwise), `n` nodes, Taichi funcs
  `node_state(b, t, i) -> (x, v)` and `add_node_force(b, t, i, f)`, and
  `surface_areas() -> (n,)` lumped boundary areas for the stability bound (its loads
  arrive as side "surface" with `k_nodes`, `c_nodes` of shape (B, n)).

Pairs and joints follow the same phase convention (`apply(t, t1, g)` and its reverse).
Deformable objects (MPM, cables) are further body types with the same phases.
"""

import math

import numpy as np

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.se3 import as_poses, rotation

ti = import_taichi()

SAFETY = 0.9  # substeps may use at most this fraction of the stability limit


def np_float(dtype):
    return np.float64 if dtype == ti.f64 else np.float32


def per_env(name: str, value, batch: int, lower: float | None = 0.0,
            strict: bool = False) -> np.ndarray:
    """A scalar or (B,) parameter as a finite (B,) float64 array, checked against a bound."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(batch, float(a))
    if a.shape != (batch,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a finite scalar or an array of {batch} values (one "
                         f"per environment), got {np.asarray(value).shape}")
    if lower is not None:
        bad = a <= lower if strict else a < lower
        if np.any(bad):
            rel = ">" if strict else ">="
            raise ValueError(f"{name} must be {rel} {lower}, got {a[bad][0]!r}")
    return a


# ----- generic slot copies (fields with the slot axis second) ---------------------------
@ti.kernel
def _slot_to_snap(src: ti.template(), dst: ti.template(), t: ti.i32):
    for I in ti.grouped(dst):
        if ti.static(len(dst.shape) == 1):
            dst[I] = src[I[0], t]
        else:
            dst[I] = src[I[0], t, I[1]]


@ti.kernel
def _snap_to_slot(src: ti.template(), dst: ti.template(), t: ti.i32):
    for I in ti.grouped(src):
        if ti.static(len(src.shape) == 1):
            dst[I[0], t] = src[I]
        else:
            dst[I[0], t, I[1]] = src[I]


@ti.kernel
def _add_snap_to_slot(src: ti.template(), dst: ti.template(), t: ti.i32):
    for I in ti.grouped(src):
        if ti.static(len(src.shape) == 1):
            dst[I[0], t] += src[I]
        else:
            dst[I[0], t, I[1]] += src[I]


@ti.kernel
def _zero_slot(dst: ti.template(), t: ti.i32):
    for I in ti.grouped(dst):
        if I[1] == t:
            dst[I] = dst[I] * 0


class SlotIO:
    """Host <-> slot transfers through one snapshot field (B, ...) per slot field."""

    def __init__(self):
        self._snaps = {}

    def _snap(self, fld):
        key = id(fld)
        if key not in self._snaps:
            shape = (fld.shape[0],) + tuple(fld.shape[2:])
            if hasattr(fld, "m") and getattr(fld, "ndim", 1) == 2 and fld.m > 1:
                s = ti.Matrix.field(fld.n, fld.m, fld.dtype, shape=shape)
            elif hasattr(fld, "n"):
                s = ti.Vector.field(fld.n, fld.dtype, shape=shape)
            else:
                s = ti.field(fld.dtype, shape=shape)
            self._snaps[key] = (fld, s)
        return self._snaps[key][1]

    def read(self, fld, t: int) -> np.ndarray:
        s = self._snap(fld)
        _slot_to_snap(fld, s, t)
        return s.to_numpy().astype(np.float64)

    def write(self, fld, t: int, arr, add: bool = False) -> None:
        s = self._snap(fld)
        a = np.ascontiguousarray(arr, dtype=np_float(fld.dtype))
        s.from_numpy(a.reshape(s.shape + s_tail(s)))
        (_add_snap_to_slot if add else _snap_to_slot)(s, fld, t)


def s_tail(s) -> tuple:
    if hasattr(s, "m") and getattr(s, "ndim", 1) == 2 and s.m > 1:
        return (s.n, s.m)
    if hasattr(s, "n"):
        return (s.n,)
    return ()


# ----- kinematic poses driven by actions --------------------------------------------------
@ti.data_oriented
class PoseTrack:
    """Per-environment SE(3) poses at every pose slot, interpolated from control actions.

    `key[b, j]` is the pose at the end of control step j - 1 of the segment (key 0: at the
    segment start); the pose at substep s of step j is the linear interpolation in
    (p, r) between key j and key j + 1, written into pose slot j * substeps + s.
    """

    def __init__(self, world):
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B, self.k, self.dtype = B, world.substeps, f
        self.key = ti.Vector.field(6, f, shape=(B, world.segment + 1), needs_grad=rg)
        self.p = ti.Vector.field(3, f, shape=(B, world.n_pose_slots), needs_grad=rg)
        self.R = ti.Matrix.field(3, 3, f, shape=(B, world.n_pose_slots), needs_grad=rg)
        self.npf = np_float(f)

    @ti.kernel
    def _set_key(self, j: ti.i32, a: ti.types.ndarray()):
        for b in range(self.B):
            for c in ti.static(range(6)):
                self.key[b, j][c] = a[b, c]

    def set_key(self, j: int, poses: np.ndarray) -> None:
        self._set_key(j, np.ascontiguousarray(poses, dtype=self.npf))

    @ti.kernel
    def interpolate(self, j: ti.i32, s0: ti.i32):
        """Pose slots j*k + s, s = s0..k (s0 = 1 except at a segment start: each slot is
        written by exactly one launch, so the reverse pass counts it once)."""
        for b, s in ti.ndrange(self.B, (s0, self.k + 1)):
            w = ti.cast(s, self.dtype) / ti.cast(self.k, self.dtype)
            q = (1.0 - w) * self.key[b, j] + w * self.key[b, j + 1]
            g = j * self.k + s
            self.p[b, g] = ti.Vector([q[0], q[1], q[2]])
            self.R[b, g] = rotation(ti.Vector([q[3], q[4], q[5]]))

    def key_grad(self) -> np.ndarray:
        return self.key.grad.to_numpy().astype(np.float64)

    def zero_grads(self) -> None:
        for fld in (self.key, self.p, self.R):
            fld.grad.fill(0)


# ----- bodies -----------------------------------------------------------------------------
class Body:
    """Base of every body; see the module docstring for the protocol."""

    kind = "body"
    has_internal = True
    has_integrate = True
    supports_grad = True
    is_point_side = False
    is_sdf_side = False
    is_surface_side = False
    contact_offset = 0.0
    param_names: tuple = ()
    outputs: tuple = ()

    def __init__(self, name: str):
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"a body name must be a non-empty string without '.', got {name!r}")
        self.name = name
        self.world = None
        self.pose_track = None

    # bookkeeping shared by all bodies
    def _bind(self, world) -> None:
        if self.world is not None:
            raise ValueError(f"body {self.name!r} already belongs to a world; create a new one")
        self.world = world

    def state_fields(self) -> dict:
        return {}

    def accumulator_fields(self) -> dict:
        return {}

    def initial_state(self) -> dict:
        return {}

    def stable_dt(self, loads) -> float:
        return math.inf

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

    def seed(self, name: str, slot: int, array) -> None:
        raise ValueError(f"body {self.name!r} has no differentiable output {name!r}; "
                         f"it has {list(self.outputs)}")

    def internal(self, t, t1, g):
        pass

    def integrate(self, t, t1, g):
        pass

    def internal_grad(self, t, t1, g) -> None:
        self.internal.grad(t, t1, g)

    def integrate_grad(self, t, t1, g) -> None:
        self.integrate.grad(t, t1, g)


class ContactLoad:
    """Stiffness k and damping c (B, n_points) a pair adds at the point side's points,
    and their totals (B,) on the SDF side; bodies use them in `stable_dt`."""

    def __init__(self, k_points, c_points):
        self.k_points, self.c_points = k_points, c_points
        self.k_total, self.c_total = k_points.sum(axis=1), c_points.sum(axis=1)


# ----- the world --------------------------------------------------------------------------
class World:
    """Bodies, contact pairs and joints in B environments; see the module docstring."""

    def __init__(self, batch: int = 1, dt: float = 1e-5, substeps: int = 10,
                 dtype=None, requires_grad: bool = False, segment: int = 10,
                 gravity=(0.0, 0.0, 0.0)):
        ensure_init()
        if int(batch) < 1 or int(substeps) < 1 or int(segment) < 1:
            raise ValueError(f"batch, substeps and segment must be >= 1, got {batch}, "
                             f"{substeps}, {segment}")
        self.dtype = dtype or ti.f32
        if self.dtype not in (ti.f32, ti.f64):
            raise ValueError(f"dtype must be ti.f32 or ti.f64, got {self.dtype}")
        self.npf = np_float(self.dtype)
        self.batch, self.substeps = int(batch), int(substeps)
        self.requires_grad = bool(requires_grad)
        self.segment = int(segment) if self.requires_grad else 1
        k = self.substeps
        self.n_slots = self.segment * k + 1 if self.requires_grad else 2
        self.n_pose_slots = self.segment * k + 1
        self.bodies, self.pairs, self.joints = [], [], []
        self._names = set()
        self.dt_field = ti.field(self.dtype, shape=())
        self.gravity = ti.Vector.field(3, self.dtype, shape=())
        g = np.asarray(gravity, dtype=np.float64)
        if g.shape != (3,) or not np.all(np.isfinite(g)):
            raise ValueError(f"gravity must be a finite 3-vector, got {gravity!r}")
        self.gravity[None] = g.tolist()
        self.io = SlotIO()
        self._dt_value = float(dt)
        if not self._dt_value > 0:
            raise ValueError(f"dt must be positive, got {dt!r}")
        self.dt_field[None] = self._dt_value
        self.dt_limit = math.inf
        self._ready = False
        self.n_steps = 0

    # ----- building ----------------------------------------------------------------------
    def _register(self, obj):
        if obj.name in self._names:
            raise ValueError(f"name {obj.name!r} is used twice in this world")
        self._names.add(obj.name)

    def add(self, body: Body) -> Body:
        if not isinstance(body, Body):
            raise ValueError(f"world.add takes a Body, got {type(body).__name__}")
        if self.requires_grad and not body.supports_grad:
            raise ValueError(f"body {body.name!r} ({body.kind}) has no gradient fields; "
                             f"create the world with requires_grad=False to simulate it")
        self._register(body)
        body._bind(self)
        body.allocate(self)
        self.bodies.append(body)
        self._ready = False
        return body

    def add_pair(self, pair):
        self._register(pair)
        b_side = getattr(pair, "b_side", "sdf")
        for side, want in ((pair.a, "is_point_side"), (pair.b, f"is_{b_side}_side")):
            if side.world is not self:
                raise ValueError(f"pair {pair.name!r}: body {side.name!r} is not in this world")
            if not getattr(side, want, False):
                role = "first (point)" if want == "is_point_side" else f"second ({b_side})"
                raise ValueError(f"pair {pair.name!r}: body {side.name!r} ({side.kind}) cannot "
                                 f"be its {role} side")
        pair.allocate(self)
        self.pairs.append(pair)
        self._ready = False
        return pair

    def add_joint(self, joint):
        self._register(joint)
        joint.allocate(self)
        self.joints.append(joint)
        self._ready = False
        return joint

    def named(self, name: str):
        for obj in self.bodies + self.pairs + self.joints:
            if obj.name == name:
                return obj
        raise ValueError(f"no body, pair or joint named {name!r}; have "
                         f"{[o.name for o in self.bodies + self.pairs + self.joints]}")

    @property
    def objects(self):
        return self.bodies + self.pairs + self.joints

    @property
    def dt(self) -> float:
        return self._dt_value

    def set_dt(self, dt: float) -> None:
        dt = float(dt)
        if not dt > 0:
            raise ValueError(f"dt must be positive, got {dt!r}")
        self._check_tape_empty("change dt")
        self._dt_value = dt
        self.dt_field[None] = dt
        self.check_stability()

    # ----- stability ---------------------------------------------------------------------
    def stability_limit(self) -> float:
        """The largest stable substep of the linearised system (s), before the margin."""
        loads = {b.name: [] for b in self.bodies}
        for p in self.pairs:
            load = p.load()
            loads[p.a.name].append(("point", load))
            loads[p.b.name].append((getattr(p, "b_side", "sdf"), load))
        lim = math.inf
        for b in self.bodies:
            lim = min(lim, b.stable_dt(loads[b.name]))
        for j in self.joints:
            lim = min(lim, j.stable_dt())
        return lim

    def check_stability(self) -> None:
        crit = self.stability_limit()
        self.dt_limit = SAFETY * crit
        if self._dt_value > self.dt_limit:
            raise ValueError(
                f"substep dt={self._dt_value:.3e} s exceeds {SAFETY} x the stability limit "
                f"{crit:.3e} s (elastic CFL with contact stiffness, mass damping alpha, "
                f"stiffness damping beta and contact damping kd); use dt <= {self.dt_limit:.3e}")

    def _params_changed(self) -> None:
        """Called by bodies and pairs after set_params."""
        self._check_tape_empty("change parameters")
        if self.bodies:
            self.check_stability()

    def _check_tape_empty(self, what: str) -> None:
        if self.requires_grad and self.n_steps > 0:
            raise ValueError(f"cannot {what} after {self.n_steps} recorded steps: the "
                             f"gradient tape assumes them constant; call world.reset() first")

    # ----- state -------------------------------------------------------------------------
    def _build(self) -> None:
        if self._ready:
            return
        if not self.bodies:
            raise ValueError("the world has no bodies; add one with world.add(...)")
        self.check_stability()
        for obj in self.objects:
            obj.broadcast()
        self._ready = True

    def _tracks(self):
        return [b for b in self.bodies if b.pose_track is not None]

    def get_state(self) -> dict:
        """{name: {field: (B, ...) array}} of every body and pair, plus kinematic poses."""
        self._build()
        out = {}
        for obj in self.objects:
            st = {k: self.io.read(f, self._t) for k, f in obj.state_fields().items()}
            if getattr(obj, "pose_track", None) is not None:
                st["pose"] = self._pose_now[obj.name].copy()
            out[obj.name] = st
        return out

    def set_state(self, state: dict) -> None:
        """Set the current state (dict as from get_state; missing entries keep theirs).

        With requires_grad this starts a new tape: the state set is the new initial state.
        """
        self._build()
        cur = self.get_state()
        for name, st in state.items():
            obj = self.named(name)
            for k, arr in st.items():
                if k not in cur[name]:
                    raise ValueError(f"{name!r} has no state {k!r}; it has {list(cur[name])}")
                arr = np.asarray(arr, dtype=np.float64)
                if arr.shape != cur[name][k].shape or not np.all(np.isfinite(arr)):
                    raise ValueError(f"state {name}.{k} must be finite with shape "
                                     f"{cur[name][k].shape}, got {arr.shape}")
                cur[name][k] = arr
            del obj
        self._start_tape(cur)

    def reset(self, env_ids=None, state: dict | None = None) -> None:
        """Every body to its initial state (all environments, or those in env_ids).

        state: {name: {field: array}} to reset to instead of the initial state, arrays of
        shape (B, ...) as from get_state (rows env_ids are used) or (len(env_ids), ...).
        A full reset starts a new gradient tape. A partial one keeps the tape of every
        environment (Gymnasium autoreset inside a vector environment): the recorded
        steps go on, a new segment starts here, and the reverse pass stops the reset
        environments' gradients at this point (their state after it depends on nothing
        before it); their gradients after it flow as usual.
        """
        self._build()
        init = {o.name: dict(o.initial_state()) for o in self.objects}
        for b in self._tracks():
            init[b.name]["pose"] = b.initial_pose.copy()
        ids = np.arange(self.batch) if env_ids is None else np.unique(
            np.asarray(env_ids, dtype=np.int64).reshape(-1))
        if ids.size and (ids.min() < 0 or ids.max() >= self.batch):
            raise ValueError(f"env_ids must lie in [0, {self.batch}), got {ids.tolist()}")
        for name, st in (state or {}).items():
            self.named(name)
            for k, arr in st.items():
                if k not in init[name]:
                    raise ValueError(f"{name!r} has no state {k!r}; it has {list(init[name])}")
                a = np.asarray(arr, dtype=np.float64)
                full = init[name][k].shape
                if a.shape == (len(ids),) + full[1:]:
                    a, b = np.array(init[name][k], dtype=np.float64), a
                    a[ids] = b
                if a.shape != full or not np.all(np.isfinite(a)):
                    raise ValueError(f"reset state {name}.{k} must be finite with shape {full} "
                                     f"or {(len(ids),) + full[1:]}, got {np.shape(arr)}")
                init[name][k] = a
        if env_ids is None:
            self._start_tape(init)
            return
        if not (self.requires_grad and self.n_steps > 0):
            cur = self.get_state()
            for name, st in init.items():
                for k, arr in st.items():
                    cur[name][k][ids] = arr[ids]
            self._start_tape(cur)
            return
        # Within a tape: the reset opens a segment whose checkpoint holds the new rows.
        if self._j > 0:
            self._rollover()
        state0, pose0 = self._ckpt[-1]
        for name, st in init.items():
            for k, arr in st.items():
                if k == "pose":
                    pose0[name][ids] = arr[ids]
                else:
                    state0[name][k][ids] = arr[ids]
        self._write_state(state0, 0)
        self._t = 0
        for b in self._tracks():
            self._pose_now[b.name] = pose0[b.name].copy()
            b.pose_track.set_key(0, self._pose_now[b.name])
        prev = self._seg_resets[-1]
        self._seg_resets[-1] = ids if prev is None else np.union1d(prev, ids)

    def _write_state(self, state: dict, t: int) -> None:
        for obj in self.objects:
            for k, f in obj.state_fields().items():
                self.io.write(f, t, state[obj.name][k])
            for f in obj.accumulator_fields().values():
                _zero_slot(f, t)

    def _start_tape(self, state: dict) -> None:
        self._t, self._j, self.n_steps = 0, 0, 0
        self._write_state(state, 0)
        self._pose_now = {b.name: np.array(state[b.name]["pose"]) for b in self._tracks()}
        for b in self._tracks():
            b.pose_track.set_key(0, self._pose_now[b.name])
        self._ckpt = [(state, {k: v.copy() for k, v in self._pose_now.items()})]
        self._seg_starts, self._seg_resets = [0], [None]
        self._actions = []
        for p in self.pairs:
            p.history = []

    # ----- stepping ----------------------------------------------------------------------
    def _substep(self, t: int, t1: int, g: int) -> None:
        for b in self.bodies:
            if b.has_internal:
                b.internal(t, t1, g)
        for p in self.pairs:
            p.apply(t, t1, g)
        for j in self.joints:
            j.apply(t, t1, g)
        for b in self.bodies:
            if b.has_integrate:
                b.integrate(t, t1, g)

    def _next(self, t: int) -> int:
        return t + 1 if self.requires_grad else 1 - t

    def _advance(self, j: int, poses: dict) -> None:
        """Control step j of the current segment from state slot self._t."""
        for b in self._tracks():
            b.pose_track.set_key(j + 1, poses[b.name])
            b.pose_track.interpolate(j, 0 if j == 0 else 1)
        k = self.substeps
        t = self._t
        for s in range(k):
            t1 = self._next(t)
            self._substep(t, t1, j * k + s)
            self._last_t, t = t, t1
        self._t = t

    def _rollover(self) -> None:
        """Start a new segment from the current state (checkpoint with gradients)."""
        if self.requires_grad:
            state = {o.name: {k: self.io.read(f, self._t) for k, f in o.state_fields().items()}
                     for o in self.objects}
            self._write_state(state, 0)
            self._ckpt.append((state, {k: v.copy() for k, v in self._pose_now.items()}))
            self._seg_starts.append(self.n_steps)
            self._seg_resets.append(None)
            self._t = 0
        # Without gradients the two state slots alternate: the state stays where it is.
        self._j = 0
        for b in self._tracks():
            b.pose_track.set_key(0, self._pose_now[b.name])

    def step(self, actions: dict | None = None) -> None:
        """One control step; actions: {body name: pose (6,) or (B, 6)} for driven bodies.

        A driven body without an action holds its pose.
        """
        if not hasattr(self, "_t"):
            self.reset()
        actions = dict(actions or {})
        tracks = {b.name: b for b in self._tracks()}
        bad = set(actions) - set(tracks)
        if bad:
            raise ValueError(f"actions for {sorted(bad)}: only {sorted(tracks)} are driven")
        poses = {n: as_poses(actions[n], self.batch, f"action for {n!r}") if n in actions
                 else self._pose_now[n] for n in tracks}
        if self._j == self.segment:
            self._rollover()
        self._advance(self._j, poses)
        self._pose_now = {n: np.array(p) for n, p in poses.items()}
        self._j += 1
        self.n_steps += 1
        if self.requires_grad:
            self._actions.append({n: np.array(p) for n, p in poses.items()})
        for p in self.pairs:
            p.record(self._last_t)

    def rollout(self, actions, reset: bool = True) -> None:
        """Run a sequence of action dicts (a loop over `step`)."""
        if reset:
            self.reset()
        for a in actions:
            self.step(a)

    @property
    def state_slot(self) -> int:
        return self._t

    @property
    def last_force_slot(self) -> int:
        return self._last_t

    @property
    def last_pose_slot(self) -> int:
        """The pose slot of the last substep of the last control step."""
        return (self._j - 1) * self.substeps + self.substeps - 1

    # ----- reverse mode ------------------------------------------------------------------
    def _segments(self):
        """(index, first step, length) of every recorded segment: `segment` steps each,
        or fewer where a partial reset opened the next one (the last may be empty)."""
        st = self._seg_starts + [self.n_steps]
        return [(s, st[s], st[s + 1] - st[s]) for s in range(len(st) - 1)]

    def _load_segment(self, s: int, g0: int, length: int) -> None:
        state, pose0 = self._ckpt[s]
        self._t, self._j = 0, 0
        self._write_state(state, 0)
        for b in self._tracks():
            b.pose_track.set_key(0, pose0[b.name])
        for j in range(length):
            self._advance(j, self._actions[g0 + j])

    def backward(self, seeds: dict | None = None) -> dict:
        """Gradient of a scalar loss L given its derivatives with respect to outputs.

        seeds: {step i: {"name.output": array}} where step i = 0 is the initial state and
        step i >= 1 the state after the i-th step; outputs are a body's (e.g. "gel.x",
        "gel.v": (B, n, 3)) or a pair's ("press.force": (B, 3), the force at the last
        substep of step i). Returns dL/d(actions, parameters, initial state).
        """
        if not self.requires_grad:
            raise ValueError("create the World with requires_grad=True to differentiate")
        T = self.n_steps
        if T == 0:
            raise ValueError("run world.step() before world.backward()")
        seeds = self._check_seeds(seeds or {}, T)
        for obj in self.objects:
            obj.zero_param_grads()
        tracks = self._tracks()
        act_grad = {b.name: np.zeros((T, self.batch, 6)) for b in tracks}
        carry = None
        k = self.substeps
        for s, g0, length in reversed(self._segments()):
            self._load_segment(s, g0, length)
            for obj in self.objects:
                slot_fields = {**obj.state_fields(), **obj.accumulator_fields()}
                for f in slot_fields.values():
                    f.grad.fill(0)
                obj.zero_slot_grads()
            for b in tracks:
                b.pose_track.zero_grads()
            end = length * k
            if carry is not None:
                for name, st in carry.items():
                    fields = self.named(name).state_fields()
                    for key, arr in st.items():
                        self.io.write(fields[key].grad, end, arr, add=True)
            for i in range(g0 + 1, g0 + length + 1):
                for key, arr in seeds.get(i, {}).items():
                    name, out = key.split(".", 1)
                    self.named(name).seed(out, (i - g0) * k, arr)
            for j in reversed(range(length)):
                for sub in reversed(range(k)):
                    t = j * k + sub
                    for b in reversed(self.bodies):
                        if b.has_integrate:
                            b.integrate_grad(t, t + 1, t)
                    for jt in reversed(self.joints):
                        jt.apply_grad(t, t + 1, t)
                    for p in reversed(self.pairs):
                        p.apply_grad(t, t + 1, t)
                    for b in reversed(self.bodies):
                        if b.has_internal:
                            b.internal_grad(t, t + 1, t)
                for b in tracks:
                    b.pose_track.interpolate.grad(j, 0 if j == 0 else 1)
            carry = {o.name: {key: self.io.read(f.grad, 0) for key, f in o.state_fields().items()}
                     for o in self.objects}
            cut = self._seg_resets[s] if s > 0 else None
            if cut is not None:
                # Reset environments start this segment afresh: nothing flows further back.
                for st in carry.values():
                    for arr in st.values():
                        arr[cut] = 0.0
            for b in tracks:
                kg = b.pose_track.key_grad()
                if cut is not None:
                    kg[cut, 0] = 0.0
                for j in range(length):
                    act_grad[b.name][g0 + j] += kg[:, j + 1]
                if s > 0:
                    act_grad[b.name][g0 - 1] += kg[:, 0]
                else:
                    carry[b.name]["pose"] = kg[:, 0].copy()
        for obj in self.objects:
            obj.broadcast_grad()
        initial = {}
        for o in self.objects:
            st = carry.get(o.name, {})
            st = {k: v + seeds.get(0, {}).get(f"{o.name}.{k}", 0.0) for k, v in st.items()}
            if st:
                initial[o.name] = st
        params = {o.name: o.param_grads() for o in self.objects if o.param_names}
        # Leave the world as it was after the last step (backward reused the slots).
        last = self._segments()[-1]
        self._load_segment(*last)
        self._j = last[2]
        return {"actions": act_grad, "params": params, "initial": initial}

    def _check_seeds(self, seeds: dict, T: int) -> dict:
        out = {}
        for i, d in seeds.items():
            i = int(i)
            if not 0 <= i <= T:
                raise ValueError(f"seed step {i} lies outside the recorded steps [0, {T}]")
            out[i] = {}
            for key, arr in d.items():
                if "." not in key:
                    raise ValueError(f"seed key {key!r} must read 'name.output'")
                name, what = key.split(".", 1)
                obj = self.named(name)
                if what not in obj.outputs:
                    raise ValueError(f"{name!r} has no differentiable output {what!r}; it has "
                                     f"{list(obj.outputs)}")
                if i == 0 and what not in obj.state_fields():
                    raise ValueError(f"step 0 is the initial state: {key!r} is not a state")
                out[i][key] = np.asarray(arr, dtype=np.float64)
        return out
