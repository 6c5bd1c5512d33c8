"""Gymnasium faces of a tactile task: one env (`TactileEnv`) and the native vector env
(`TactileVectorEnv`), both thin layers over `TaskRunner`, which steps B environments of a
task in the batch axis of one shared world.

Observations: `obs_mode="state"` (default, for plain MLP policies) is one float32 Box,
proprioception then tactile; `obs_mode="dict"` is a Dict with "proprio" and "tactile"
(force and torque on the gel in the sensor frame, marker-proxy displacements; see
`readout.py`); `obs_mode="image"` adds "image_<sensor>", a uint8 (image_height,
image_width, 3) tactile image per gel (`readout.GelImager`, the optical model of
`tacsuite.sim.optics`). `render_mode="rgb_array"` frames show the scene (side and top
views), the force and marker panel and the tactile images side by side. Actions are a
Box [-1, 1]^A of scaled control deltas (`task.py`).
Reward per step: -cost (the task's dimensionless error) and a bonus on success, which
ends the episode (terminated); the task's horizon truncates it.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from tacsuite.envs.base import SuiteEnv, SuiteVectorEnv
from tacsuite.envs.raster import Canvas
from tacsuite.envs.tactile.readout import GelImager, GelReadout
from tacsuite.envs.tactile.task import shared_world
from tacsuite.envs.validation import check_box, check_choice, check_int

OBS_MODES = ("state", "dict", "image")
IMAGE_SIZE = (48, 64)   # (height, width) of the tactile images: small, so steps stay fast
OBS_LIMIT = 100.0   # observations are scaled to O(1) and clipped here (finite Box bounds)
COLORS = ((0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (120, 120, 120),
          (230, 159, 0))


class TaskRunner:
    """B environments of one task in one world: control, per-env resets, obs, reward."""

    def __init__(self, task, batch: int, image_size: tuple[int, int] = IMAGE_SIZE):
        self.task, self.B = task, int(batch)
        self.image_size = tuple(int(v) for v in image_size)
        self._imagers = None
        self.world, self.objs, self.lease = shared_world(task, self.B)
        gels = [self.objs[s] for s in task.sensors]
        self.readouts = [GelReadout(g, [p for p in self.world.pairs if p.a is g or p.b is g],
                                    task.n_markers, task.force_scale, task.disp_scale)
                         for g in gels]
        self.c = np.tile(task.initial_control(), (self.B, 1))
        self.draws = [task.default_draws() for _ in range(self.B)]
        self.t = np.zeros(self.B, dtype=np.int64)
        self.n_proprio = task.proprio(self.world, self.objs, self.c, self.draws).shape[1]
        self.n_tactile = sum(r.size for r in self.readouts)

    def reset(self, ids, rngs, draws=None) -> None:
        """Start new episodes in environments `ids`, each drawing from its own rng (or
        with the given episode draws)."""
        self.lease.take(self)
        ids = np.asarray(ids, dtype=np.int64)
        for k, (i, rng) in enumerate(zip(ids, rngs, strict=True)):
            self.draws[i] = self.task.randomize(rng) if draws is None else dict(draws[k])
            self.c[i] = self.task.initial_control()
            self.t[i] = 0
        self.task.apply_episode(self.objs, self.draws, ids)
        poses = self.task.poses_np(self.c)
        for name, p in poses.items():
            self.objs[name].set_initial(pose=p)
        self.world.reset(None if len(ids) == self.B else ids)
        self._forces_valid = False

    def step(self, actions: np.ndarray) -> None:
        self.lease.take(self)
        self.c = self.task.step_control(self.c, actions)
        self.world.step(self.task.poses_np(self.c))
        self.t += 1
        self._forces_valid = True

    def observe(self) -> tuple[np.ndarray, np.ndarray]:
        proprio = self.task.proprio(self.world, self.objs, self.c, self.draws)
        poses = self.task.poses_np(self.c)
        tac = [r.read(poses[name], self._forces_valid) for r, name in
               zip(self.readouts, self.task.sensors, strict=True)]
        tactile = np.concatenate(tac, axis=1) if tac else np.zeros((self.B, 0))
        return (np.clip(proprio, -OBS_LIMIT, OBS_LIMIT).astype(np.float32),
                np.clip(tactile, -OBS_LIMIT, OBS_LIMIT).astype(np.float32))

    def images(self, env: int | None = None) -> dict[str, np.ndarray]:
        """{"image_<sensor>": (B, H, W, 3) uint8} tactile images of every gel, of all
        environments or (1, H, W, 3) of environment `env`."""
        if self._imagers is None:   # built on first use: state observations never need them
            self._imagers = [GelImager(self.objs[s], *self.image_size)
                             for s in self.task.sensors]
        envs = slice(None) if env is None else slice(env, env + 1)
        poses = self.task.poses_np(self.c[envs])
        return {f"image_{s}": im.render(poses[s], envs)
                for s, im in zip(self.task.sensors, self._imagers, strict=True)}

    def observation(self, obs_mode: str):
        """The batch's observation in `obs_mode` (arrays with leading axis B)."""
        proprio, tactile = self.observe()
        if obs_mode == "state":
            return np.concatenate([proprio, tactile], axis=-1)
        obs = {"proprio": proprio, "tactile": tactile}
        if obs_mode == "image":
            obs.update(self.images())
        return obs

    def outcome(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        m = self.task.metrics(self.world, self.objs, self.c, self.draws)
        success = np.asarray(m["success"], dtype=bool)
        reward = -np.asarray(m["cost"], dtype=np.float64) + self.task.success_bonus * success
        truncated = (self.t >= self.task.horizon) & ~success
        return reward, success, truncated, m

    def frame(self, env: int = 0) -> np.ndarray:
        """Side view (x-z), top view (x-y), the force and marker panel and the tactile
        image of each gel (scaled to the frame's height), of one environment."""
        self.lease.take(self)
        pts = self._points(env)
        allp = np.concatenate(list(pts.values()))
        lo, hi = allp.min(0), allp.max(0)
        ctr = 0.5 * (lo + hi)
        half = 0.6 * float(np.max(hi - lo)) + 1e-4
        size = 160
        images = [im[0] for im in self.images(env).values()]
        h, w = self.image_size
        iw, gap = int(round(size * w / h)), 4
        cv = Canvas(size, 3 * size + (iw + gap) * len(images), background=(250, 250, 250))
        rows = np.arange(size) * h // size
        cols = np.arange(iw) * w // iw
        for k, im in enumerate(images):    # nearest-neighbour scaling keeps the pixels
            x0 = 3 * size + gap + k * (iw + gap)
            cv.image[:, x0:x0 + iw] = im[rows][:, cols]
        for panel, (i, j) in enumerate(((0, 2), (0, 1))):
            x0 = panel * size
            cv.rect(x0 + 2, 2, x0 + size - 2, size - 2, (235, 235, 235))
            for k, p in enumerate(pts.values()):
                u = x0 + (p[:, i] - ctr[i] + half) / (2 * half) * size
                v = size - (p[:, j] - ctr[j] + half) / (2 * half) * size
                _splat(cv.image, u, v, COLORS[k % len(COLORS)])
        if self.readouts:
            _, tactile = self.observe()
            self._tactile_panel(cv, tactile[env], 2 * size, size)
        return cv.image

    def _points(self, env: int) -> dict:
        from tacsuite.sim import quat
        from tacsuite.sim.se3 import rotation_matrix

        out = {}
        for name, b in self.objs.items():
            kind = getattr(b, "kind", "")
            if kind in ("fem", "mpm", "cable"):
                out[name] = b.positions()[env]
            elif kind == "rigid":
                s = b.state()
                R = quat.np_to_matrix(s["q"][env])
                out[name] = b.shape.points @ R.T + s["x"][env]
            elif kind == "kinematic-rigid" and hasattr(b, "draw_points"):
                p = b.pose()[env]
                out[name] = b.draw_points @ rotation_matrix(p[3:]).T + p[:3]
        return out

    def _tactile_panel(self, cv: Canvas, tactile: np.ndarray, x0: int, size: int) -> None:
        cv.rect(x0 + 2, 2, x0 + size - 2, size - 2, (30, 30, 40))
        off = 0
        n = len(self.readouts)
        for k, r in enumerate(self.readouts):
            seg = tactile[off:off + r.size]
            off += r.size
            cy = (k + 0.5) * size / n
            # force bar (normal component) and marker arrows (tangential displacement)
            fz = float(np.clip(abs(seg[2]), 0, 3)) / 3.0
            cv.rect(x0 + 8, cy + size / (2 * n) - 6, x0 + 8 + fz * (size - 16),
                    cy + size / (2 * n) - 2, (230, 159, 0))
            d = seg[6:].reshape(-1, 3)
            m = int(np.ceil(np.sqrt(len(d))))
            for q, dq in enumerate(d):
                u = x0 + (q % m + 0.5) / m * (size - 20) + 10
                v = cy - size / (2 * n) + (q // m + 0.5) / m * (size / n - 16) + 4
                cv.disc(u, v, 2.5, (240, 240, 240))
                cv.line(u, v, u + 8 * np.clip(dq[0], -2, 2), v - 8 * np.clip(dq[1], -2, 2),
                        1.5, (0, 200, 120))


def _splat(img: np.ndarray, u: np.ndarray, v: np.ndarray, color) -> None:
    h, w = img.shape[:2]
    for du in (0, 1):
        for dv in (0, 1):
            ui = np.clip(u.astype(int) + du, 0, w - 1)
            vi = np.clip(v.astype(int) + dv, 0, h - 1)
            img[vi, ui] = color


def _spaces(runner: TaskRunner, obs_mode: str):
    def box(n):
        return spaces.Box(-OBS_LIMIT, OBS_LIMIT, shape=(n,), dtype=np.float32)

    A = runner.task.action_dim
    act = spaces.Box(-1.0, 1.0, shape=(A,), dtype=np.float32)
    if obs_mode == "state":
        return box(runner.n_proprio + runner.n_tactile), act
    parts = {"proprio": box(runner.n_proprio), "tactile": box(runner.n_tactile)}
    if obs_mode == "image":
        parts.update({f"image_{s}": spaces.Box(0, 255, shape=runner.image_size + (3,),
                                               dtype=np.uint8) for s in runner.task.sensors})
    return spaces.Dict(parts), act


def _row(obs, i: int):
    return {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]


def _image_size(image_height, image_width) -> tuple[int, int]:
    return (check_int("image_height", image_height, 16, 512),
            check_int("image_width", image_width, 16, 512))


def _with_task_args(init, task_cls):
    """`init` (ending in **task_kwargs) under the signature that lists the task's keyword
    arguments and defaults (`task_cls.args`), so `inspect.signature`, `--env-kwargs` and the
    harness see each argument while the task stays the one place that declares them."""
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)

    sig = inspect.signature(init)
    own = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    task = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=a.default,
                              annotation=type(a.default)) for name, a in task_cls.args.items()]
    __init__.__signature__ = sig.replace(parameters=own + task)
    return __init__


class _TaskArgs:
    """Gives each subclass that sets `task_cls` an `__init__` signature with its args."""

    task_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.task_cls is not None and "__init__" not in cls.__dict__:
            cls.__init__ = _with_task_args(cls.__init__, cls.task_cls)


class TactileEnv(_TaskArgs, SuiteEnv):
    """Base of the single tactile envs; a subclass sets `task_cls` (and its docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(self, render_mode: str | None = None, obs_mode: str = "state", *,
                 image_height: int = IMAGE_SIZE[0], image_width: int = IMAGE_SIZE[1],
                 **task_kwargs):
        self._set_render_mode(render_mode)
        self.obs_mode = check_choice("obs_mode", obs_mode, OBS_MODES)
        size = _image_size(image_height, image_width)
        self.task = self.task_cls(**task_kwargs)
        self.runner = TaskRunner(self.task, 1, size)
        self.observation_space, self.action_space = _spaces(self.runner, self.obs_mode)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.runner.reset([0], [self.np_random])
        return _row(self.runner.observation(self.obs_mode), 0), {}

    def step(self, action):
        a = check_box(action, self.action_space)
        self.runner.step(a[None, :])
        obs = _row(self.runner.observation(self.obs_mode), 0)
        reward, success, trunc, m = self.runner.outcome()
        info = {k: float(np.asarray(v)[0]) for k, v in m.items()}
        return obs, float(reward[0]), bool(success[0]), bool(trunc[0]), info

    def _render_rgb(self) -> np.ndarray:
        return self.runner.frame(0)

    def close(self):
        self.runner.lease.release(self.runner)
        super().close()


class TactileVectorEnv(_TaskArgs, SuiteVectorEnv):
    """N environments of a task in the batch axis of one world (one set of kernels).

    Gymnasium 1.x next-step autoreset: after an environment ends, the next `step` resets it
    (its action is ignored) and returns its first observation with reward 0. Environment
    i's random stream is seeded with seed + i, as for N single envs. `SuiteVectorEnv`
    refuses a step before reset and checks every environment's action.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20,
                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, render_mode: str | None = None, obs_mode: str = "state",
                 *, image_height: int = IMAGE_SIZE[0], image_width: int = IMAGE_SIZE[1],
                 **task_kwargs):
        self.num_envs = check_int("num_envs", num_envs, 1)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r} is not supported; choose "
                             f"'rgb_array' or None")
        self.render_mode = render_mode
        self.obs_mode = check_choice("obs_mode", obs_mode, OBS_MODES)
        size = _image_size(image_height, image_width)
        self.task = self.task_cls(**task_kwargs)
        self.runner = TaskRunner(self.task, self.num_envs, size)
        self.single_observation_space, self.single_action_space = _spaces(self.runner,
                                                                          self.obs_mode)
        from gymnasium.vector.utils import batch_space

        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._rngs = None

    def reset(self, *, seed=None, options=None):
        from gymnasium.utils.seeding import np_random

        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        if self._rngs is None or seed is not None:
            self._rngs = [np_random(s)[0] for s in seeds]
        self.runner.reset(np.arange(self.num_envs), self._rngs)
        self._autoreset[:] = False
        return self.runner.observation(self.obs_mode), {}

    def step(self, actions):
        a = np.where(self._autoreset[:, None], 0.0, actions)   # checked (SuiteVectorEnv)
        self.runner.step(a)
        reward, term, trunc, _ = self.runner.outcome()
        obs = self.runner.observation(self.obs_mode)
        done_before = np.flatnonzero(self._autoreset)
        if len(done_before):
            # Those environments stepped with the others (one batched step) and are now
            # put back to the start of their next episode.
            self.runner.reset(done_before, [self._rngs[i] for i in done_before])
            first = self.runner.observation(self.obs_mode)
            for k in obs if isinstance(obs, dict) else (None,):
                dst, src = (obs, first) if k is None else (obs[k], first[k])
                dst[done_before] = src[done_before]
            reward[done_before] = 0.0
            term[done_before] = False
            trunc[done_before] = False
        self._autoreset = term | trunc
        return obs, reward.astype(np.float64), term, trunc, {}

    def render(self):
        if self.render_mode == "rgb_array":
            return [self.runner.frame(i) for i in range(self.num_envs)]
        return None

    def close_extras(self, **kwargs):
        self.runner.lease.release(self.runner)
