"""The episode contract every environment of the suite keeps, written once.

Derive an environment from `SuiteEnv` (instead of `gymnasium.Env`) and it gets:

- **Episode order.** `step()` before the first `reset()`, or after a step that returned
  `terminated` or `truncated`, raises `ResetNeeded` (a `gymnasium.error.ResetNeeded` and a
  `RuntimeError`) naming the env and what happened; it never silently keeps stepping.
  `__init_subclass__` wraps the `step` and `reset` a subclass defines, so env code stays
  plain Gymnasium code; calls of `super().step()` / `super().reset()` inside them are
  not checked twice.
- **Rendering.** `metadata["render_modes"]` lists the modes; `_set_render_mode` refuses
  any other with the one wording of `check_render_mode`; `render()` dispatches to
  `_render_rgb()` (an `(H, W, 3)` uint8 frame, so `gymnasium.wrappers.RecordVideo`
  works) or `_render_ansi()`.

A time limit applied by `gym.make` (`max_episode_steps`, the `TimeLimit` wrapper) sits
outside the env, which never learns it was truncated. So every id is registered with
`EpisodeGuard` as an additional wrapper: `gym.make` puts it outermost, above `TimeLimit`,
where it sees the `truncated` the user sees and applies the same rule. An env built from
its class and wrapped in `TimeLimit` by hand has only the env's own check.

Native vector envs (a registered `vector_entry_point`) derive from `SuiteVectorEnv`:
`gym.make_vec` applies no wrappers to them, so they keep the contract themselves.
`step()` before the first `reset()` raises `ResetNeeded`, after `close()` a
`ClosedEnvironmentError`, and every environment's action is checked against the single
action space (`validation.check_vector_actions`) before the env sees it, including the
actions that next-step autoreset then ignores: a NaN is a policy bug wherever it is.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ClosedEnvironmentError
from gymnasium.error import ResetNeeded as GymResetNeeded

NOT_STARTED, RUNNING, TERMINATED, TRUNCATED = "not started", "running", "terminated", \
    "truncated"


class ResetNeeded(GymResetNeeded, RuntimeError):
    """`step()` was called before the first `reset()` or after the episode ended."""


def reset_needed(who: str, phase: str, steps: int, limit: str = "") -> ResetNeeded:
    """The one wording of the error, for the env and for `EpisodeGuard`."""
    if phase == NOT_STARTED:
        return ResetNeeded(f"{who}: step() called before reset(); call reset() first")
    return ResetNeeded(f"{who}: step() called after the episode was {phase}{limit} at step "
                       f"{steps}; call reset() to start a new episode")


def check_render_mode(cls: type, render_mode: str | None) -> str | None:
    """Refuse a render mode the env class does not list, in one wording for every env."""
    modes = list(cls.metadata.get("render_modes", []))
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode={render_mode!r} is not supported by {cls.__name__}; "
                         f"choose one of {modes} or None")
    return render_mode


def _who(env) -> str:
    """The env's class, and its id when gym.make built it (for ids without EpisodeGuard)."""
    spec = getattr(env, "spec", None)
    return f"{type(env).__name__} ({spec.id})" if spec is not None else type(env).__name__


def _guard_step(step):
    @functools.wraps(step)
    def guarded_step(self, action):
        if getattr(self, "_suite_in_step", False):  # a subclass's super().step()
            return step(self, action)
        phase = getattr(self, "_suite_phase", NOT_STARTED)
        if phase != RUNNING:
            raise reset_needed(_who(self), phase, getattr(self, "_suite_steps", 0))
        self._suite_in_step = True
        try:
            out = step(self, action)
        finally:
            self._suite_in_step = False
        self._suite_steps += 1
        if out[2] or out[3]:
            self._suite_phase = TERMINATED if out[2] else TRUNCATED
        return out
    return guarded_step


def _guard_reset(reset):
    @functools.wraps(reset)
    def guarded_reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if getattr(self, "_suite_in_reset", False):
            return reset(self, seed=seed, options=options)
        self._suite_in_reset = True
        try:
            out = reset(self, seed=seed, options=options)
        finally:
            self._suite_in_reset = False
        self._suite_phase, self._suite_steps = RUNNING, 0
        return out
    return guarded_reset


def _install_guards(cls, guard_step, guard_reset) -> None:
    """Wrap the `step` and `reset` a class defines itself (inherited ones are wrapped
    already) in the episode-order guards."""
    if "step" in cls.__dict__:
        cls.step = guard_step(cls.__dict__["step"])
    if "reset" in cls.__dict__:
        cls.reset = guard_reset(cls.__dict__["reset"])


class SuiteEnv(gym.Env):
    """`gymnasium.Env` plus the suite's episode order and rendering (see the module doc)."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 4}
    render_mode: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _install_guards(cls, _guard_step, _guard_reset)

    def _set_render_mode(self, render_mode: str | None) -> None:
        self.render_mode = check_render_mode(type(self), render_mode)

    def render(self):
        if self.render_mode == "rgb_array":
            frame = self._render_rgb()
            assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
            return frame
        if self.render_mode == "ansi":
            return self._render_ansi()
        return None

    def _render_rgb(self) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} lists 'rgb_array' but draws no frame")

    def _render_ansi(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} lists 'ansi' but writes no text")


def _guard_vector_step(step):
    @functools.wraps(step)
    def guarded_step(self, actions):
        from tacsuite.envs.validation import check_vector_actions

        if getattr(self, "_suite_in_step", False):
            return step(self, actions)
        if getattr(self, "closed", False):
            raise ClosedEnvironmentError(f"{_who(self)}: step() called after close()")
        if not getattr(self, "_suite_started", False):
            raise reset_needed(_who(self), NOT_STARTED, 0)
        actions = check_vector_actions(actions, self.single_action_space, self.num_envs)
        self._suite_in_step = True
        try:
            return step(self, actions)
        finally:
            self._suite_in_step = False
    return guarded_step


def _guard_vector_reset(reset):
    @functools.wraps(reset)
    def guarded_reset(self, *, seed=None, options=None):
        if getattr(self, "closed", False):
            raise ClosedEnvironmentError(f"{_who(self)}: reset() called after close()")
        out = reset(self, seed=seed, options=options)
        self._suite_started = True
        return out
    return guarded_reset


class SuiteVectorEnv(gym.vector.VectorEnv):
    """`gymnasium.vector.VectorEnv` plus the suite's checks (see the module doc); a
    subclass's `step` receives the checked actions as a float64 (or int) array."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _install_guards(cls, _guard_vector_step, _guard_vector_reset)


class EpisodeGuard(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Outermost wrapper of every registered id: no `step()` after `terminated` or
    `truncated` (including the `TimeLimit` truncation) until `reset()`."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._phase, self._steps = NOT_STARTED, 0

    def step(self, action):
        if self._phase != RUNNING:
            spec = self.env.spec
            limit = spec.max_episode_steps if spec is not None else None
            hit = (f" (time limit {limit} steps)" if self._phase == TRUNCATED and limit
                   and self._steps >= limit else "")
            raise reset_needed(self.env.spec.id if spec is not None else str(self.env),
                               self._phase, self._steps, hit)
        out = self.env.step(action)
        self._steps += 1
        if out[2] or out[3]:
            self._phase = TERMINATED if out[2] else TRUNCATED
        return out

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        out = self.env.reset(seed=seed, options=options)
        self._phase, self._steps = RUNNING, 0
        return out


GUARD_WRAPPER = gym.envs.registration.WrapperSpec(
    name="EpisodeGuard", entry_point="tacsuite.envs.base:EpisodeGuard", kwargs={})
