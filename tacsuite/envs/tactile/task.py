"""The shared definition of a tactile task: scene, control, observations, reward, loss.

A task (`TactileTask` subclass, one module per task) is written once and used three ways:

- as a Gymnasium env (`TactileEnv`, `tacsuite.envs.tactile.env`) and a native vector env
  (`TactileVectorEnv`) whose N environments are the batch axis of one world;
- as a differentiable open-loop rollout, `task.rollout(actions, params)`, whose loss has
  gradients with respect to the actions and scene parameters through every control step
  (`World.backward`, checkpointed segments; `tacsuite.envs.tactile.rollout`);
- as the same loss without gradients for a whole population at once (CMA-ES).

Control. The policy moves a control vector c (the sensor frame's pose, plus the gripper
width where there is one) by bounded deltas: c' = clip(c + scale * a, low, high) with
a in [-1, 1]^A. Poses are (x, y, z, rotation vector); a rotation delta adds to the
rotation vector (exact about a fixed axis, first order otherwise). `body_poses(c)` maps c
to the pose of every driven body (written in torch so the rollout differentiates it).

Arguments. A task declares its keyword arguments once, in `args` ({name: Arg(default,
check, doc)}); the base validates them in that order (each check raises ValueError naming
the argument) and sets them as attributes, and the env classes take the same names with
the same defaults (`TactileEnv` derives its signature from `task_cls.args`). The arguments
every task shares (`horizon`, `stiffness`) and the gel-object friction some take (`FRICTION`)
are defined here.

Worlds. Building a world compiles its kernels (seconds), and a Taichi runtime copes with
only so many field trees, so worlds are shared: `shared_world(task, batch)` keeps one
world per (task scene, batch) for the process and every env of that task and size uses
it. An env that finds another env's state in the world saves that state into its owner
and restores its own (`WorldLease`), so any number of envs can be alive at once with a
bounded number of worlds.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

from tacsuite.envs.validation import check_int, check_real

_WORLDS: dict = {}


def shared_world(task, batch: int, requires_grad: bool = False):
    """(world, objects, lease) of the task's scene with `batch` environments, built once."""
    from tacsuite.sim import scene as scene_mod
    from tacsuite.sim.backend import ensure_init

    ensure_init()
    runtime = _runtime_id()
    if _WORLDS.get("runtime") != runtime:   # a runtime reset (tests) dropped every world
        _WORLDS.clear()
        _WORLDS["runtime"] = runtime
    sc = dict(task.scene)
    sc["batch"] = int(batch)
    key = json.dumps([type(task).__name__, sc, bool(requires_grad)], sort_keys=True)
    if key not in _WORLDS:
        world, objs = build_world(scene_mod.validate(sc), requires_grad, task.segment)
        world.reset()
        _WORLDS[key] = (world, objs, WorldLease(world))
    return _WORLDS[key]


def _runtime_id() -> int:
    from tacsuite.sim.backend import import_taichi

    return id(import_taichi().lang.impl.get_runtime())


def n_shared_worlds() -> int:
    """How many worlds the process holds (bounded: one per task scene and batch size)."""
    return sum(1 for k in _WORLDS if k != "runtime")


def build_world(scene: dict, requires_grad: bool, segment: int):
    from tacsuite.sim import scene as scene_mod

    return scene_mod.build(scene, requires_grad=requires_grad, segment=segment)


class WorldLease:
    """Which user's state the shared world holds; switching saves and restores state.

    Saved states are kept per world and user (a user may hold states in several worlds)."""

    def __init__(self, world):
        self.world = world
        self._owner = None
        self._saved = weakref.WeakKeyDictionary()

    def take(self, user) -> None:
        owner = self._owner() if self._owner is not None else None
        if owner is user:
            return
        if owner is not None:
            self._saved[owner] = self.world.get_state()
        self._owner = weakref.ref(user)
        saved = self._saved.pop(user, None)
        if saved is not None:
            self.world.set_state(saved)

    def release(self, user) -> None:
        owner = self._owner() if self._owner is not None else None
        if owner is user:
            self._owner = None
        self._saved.pop(user, None)


@dataclass(frozen=True)
class Arg:
    """A task keyword argument: its default, check(name, value) -> validated value (raises
    ValueError naming the argument), and a one-line description."""

    default: Any
    check: Callable[[str, Any], Any]
    doc: str = ""


def real_in(low: float, high: float) -> Callable[[str, Any], float]:
    return partial(check_real, low=low, high=high)


positive = partial(check_real, low=0.0, low_open=True)

HORIZON = Arg(40, partial(check_int, low=1, high=1000), "control steps of an episode")
STIFFNESS = Arg(2e4, positive, "Young's modulus of the gel (Pa)")
FRICTION = Arg(0.8, real_in(0.0, 2.0), "gel-object friction coefficient")


class TactileTask:
    """Base of the task definitions; subclasses fill in the class attributes and hooks."""

    args: dict[str, Arg] = {"horizon": HORIZON, "stiffness": STIFFNESS}

    name = "task"
    driven: tuple[str, ...] = ()        # driven bodies, in the order of body_poses
    sensors: tuple[str, ...] = ()       # gel bodies read by the tactile read-out
    segment = 10                        # control steps per checkpoint segment (gradients)
    n_markers = 4                       # marker-proxy nodes per gel
    force_scale = 1.0                   # N, tactile force normalisation
    disp_scale = 1e-3                   # m, marker displacement normalisation
    success_bonus = 10.0

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(self.args))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{unknown}; it takes {list(self.args)}")
        for name, arg in self.args.items():
            setattr(self, name, arg.check(name, kwargs.get(name, arg.default)))
        self.kwargs = {name: getattr(self, name) for name in self.args}
        self.scene = self.make_scene()

    # ----- hooks every task defines ------------------------------------------------------
    def make_scene(self) -> dict:
        raise NotImplementedError

    def control_bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, high, scale) of the control vector and its per-step delta."""
        raise NotImplementedError

    def initial_control(self) -> np.ndarray:
        raise NotImplementedError

    def initial_actions(self) -> np.ndarray:
        """(horizon, A) open-loop initial guess of the optimisers (reaches contact)."""
        raise NotImplementedError

    def body_poses(self, c: torch.Tensor) -> dict[str, torch.Tensor]:
        """{driven body: (B, 6)} poses from the control (B, C); torch, differentiable."""
        raise NotImplementedError

    def randomize(self, rng: np.random.Generator) -> dict:
        """Per-episode draws (object placement, goal): a dict of floats."""
        return {}

    def apply_episode(self, objs: dict, draws: list[dict], ids: np.ndarray) -> None:
        """Write the episode draws of environments `ids` into the bodies' initial states."""

    def metrics(self, world, objs, c: np.ndarray, draws: list[dict]) -> dict:
        """(B,) arrays describing the task state; must hold 'cost' and 'success'."""
        raise NotImplementedError

    def proprio(self, world, objs, c: np.ndarray, draws: list[dict]) -> np.ndarray:
        raise NotImplementedError

    # The differentiable loss: outputs to record, and the loss of their torch tensors.
    loss_outputs: tuple[tuple[str, str], ...] = ()   # (world output, "all" | "final")

    def loss(self, c: torch.Tensor, outs: dict, draws: list[dict], kind: str) -> torch.Tensor:
        """(B,) loss from the control trajectory c (T+1, B, C) and recorded outputs."""
        raise NotImplementedError

    # ----- shared ------------------------------------------------------------------------
    @property
    def action_dim(self) -> int:
        return len(self.control_bounds()[2])

    def step_control(self, c: np.ndarray, a: np.ndarray) -> np.ndarray:
        lo, hi, scale = self.control_bounds()
        return np.clip(c + scale * a, lo, hi)

    def step_control_torch(self, c: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        lo, hi, scale = (torch.as_tensor(v, dtype=c.dtype) for v in self.control_bounds())
        return torch.minimum(torch.maximum(c + scale * a, lo), hi)

    def poses_np(self, c: np.ndarray) -> dict[str, np.ndarray]:
        with torch.no_grad():
            out = self.body_poses(torch.as_tensor(c, dtype=torch.float64))
        return {k: v.numpy() for k, v in out.items()}

    def rollout(self, actions, params: dict | None = None, kind: str = "state",
                grad: bool = True):
        """Loss (and gradients) of open-loop actions; see `tacsuite.envs.tactile.rollout`."""
        from tacsuite.envs.tactile.rollout import rollout

        return rollout(self, actions, params, kind, grad)

    def default_draws(self) -> dict:
        """The draws of the nominal episode (what the open-loop rollouts optimise)."""
        return {}


def compose_rotvec(outer: torch.Tensor, inner: torch.Tensor) -> torch.Tensor:
    """Rotation vector of R(outer) R(inner) (..., 3), through unit quaternions; torch,
    differentiable while the result's angle stays inside (0, pi)."""
    def quat(r):
        th2 = (r * r).sum(-1, keepdim=True)
        th = torch.sqrt(th2 + 1e-300)
        # sin(th / 2) / th, with its series below 1e-6 rad (no 0/0 at the identity)
        k = torch.where(th2 < 1e-12, 0.5 - th2 / 48.0, torch.sin(th / 2) / th)
        return torch.cos(th / 2), k * r

    w1, v1 = quat(outer)
    w2, v2 = quat(inner)
    w = w1 * w2 - (v1 * v2).sum(-1, keepdim=True)
    v = w1 * v2 + w2 * v1 + torch.cross(v1, v2, dim=-1)
    s = torch.linalg.norm(v, dim=-1, keepdim=True).clamp_min(1e-12)
    return v * (2.0 * torch.atan2(s, w) / s)


def yaw_of(q):
    """Yaw (rad) of quaternions (..., 4) = (w, x, y, z); numpy or torch."""
    lib = torch if isinstance(q, torch.Tensor) else np
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return lib.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def wrap(angle):
    lib = torch if isinstance(angle, torch.Tensor) else np
    return lib.arctan2(lib.sin(angle), lib.cos(angle))
