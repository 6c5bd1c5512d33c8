"""Observation dimensions that carry nothing: the chaotic distractors of VaGraM's experiments.

Voelcker et al. (ICLR 2022) append D dimensions d to the observation with the dynamics

    d' = L d + 0.1 sin(P d),   and every component with |d'_k| > 20 is reset to r_k,

where L ~ N(0, 1)^{D x D}, P = (N(0, 10)^{D x D})^2 elementwise and r ~ N(0, 1)^D are drawn
once per environment, and d starts from N(0, 0.1)^D at every reset. With L's spectral
radius about sqrt(D) the map stretches and folds, and the resets keep it bounded: chaotic,
hard to predict, and irrelevant, because reward and dynamics never read d. A model that
spends its capacity on d is wasting it; that is what the value-gradient loss avoids.

`DistractorWrapper` adds them to any env with a 1-D Box observation; `PendulumDistractorEnv`
is Pendulum (Gymnasium's dynamics) with them built in, registered as
`tacsuite/PendulumDistractor-v0`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.pendulum import PendulumEnv

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.raster import BLUE, DARK, GREY, LIGHT, ORANGE, Canvas
from tacsuite.envs.validation import check_action, check_int

BOUND = 20.0  # a component beyond this is reset


class Distractors:
    """The distractor map of one environment: L, P and the reset vector r (seeded)."""

    def __init__(self, n_dims: int, seed: int):
        self.n = check_int("n_dims", n_dims, 0, 1000)
        rng = np.random.default_rng([int(check_int("seed", seed, 0)), 0xD157])
        self.L = rng.normal(0.0, 1.0, (self.n, self.n))
        self.P = rng.normal(0.0, 10.0, (self.n, self.n)) ** 2
        self.reset_to = rng.normal(0.0, 1.0, self.n)

    def start(self, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, 0.1, self.n)

    def step(self, d: np.ndarray) -> np.ndarray:
        d = self.L @ d + 0.1 * np.sin(self.P @ d)
        return np.where(np.abs(d) > BOUND, self.reset_to, d)


def _extend(box: spaces.Space, n: int, who: str) -> spaces.Box:
    if not (isinstance(box, spaces.Box) and len(box.shape) == 1):
        raise ValueError(f"distractors need a 1-D Box observation space; {who} has {box}")
    low = np.concatenate([box.low.astype(np.float32), np.full(n, -BOUND, np.float32)])
    high = np.concatenate([box.high.astype(np.float32), np.full(n, BOUND, np.float32)])
    return spaces.Box(low, high, dtype=np.float32)


class DistractorWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Appends `n_dims` chaotic distractor dimensions to a 1-D Box observation.

    The map (L, P, r) is drawn from `seed`; the start of d from a generator re-seeded by
    `reset(seed=...)`, so a seeded reset replays the same observations. Reward, dynamics,
    termination and info of the wrapped env are passed through untouched. The true
    observation is `obs[:-n_dims]` (`true_dims` on the wrapper).
    """

    def __init__(self, env: gym.Env, n_dims: int = 10, seed: int = 0):
        gym.utils.RecordConstructorArgs.__init__(self, n_dims=n_dims, seed=seed)
        gym.Wrapper.__init__(self, env)
        self.distractors = Distractors(n_dims, seed)
        self.n_distractors = self.distractors.n
        self.true_dims = int(env.observation_space.shape[0]) if isinstance(
            env.observation_space, spaces.Box) else 0
        self.observation_space = _extend(env.observation_space, self.n_distractors, str(env))
        self._seed = int(seed)
        self._rng = np.random.default_rng([self._seed, 1])
        self._d = np.zeros(self.n_distractors)

    def _obs(self, obs) -> np.ndarray:
        return np.concatenate([np.asarray(obs, np.float32), self._d.astype(np.float32)])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self._rng = np.random.default_rng([self._seed, 2, int(seed)])
        self._d = self.distractors.start(self._rng)
        return self._obs(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._d = self.distractors.step(self._d)
        return self._obs(obs), reward, terminated, truncated, info


class PendulumDistractorEnv(SuiteEnv):
    """Pendulum swing-up whose observation carries chaotic distractor dimensions.

    ## Description
    Gymnasium's Pendulum-v1 (dt 0.05 s, g 10, max speed 8 rad/s) with `distractors`
    dimensions of VaGraM's bounded chaotic map appended to the observation (see
    `tacsuite.envs.wrappers`). They never affect reward or dynamics; a model-based agent
    has to learn to ignore them.

    ## Action Space
    `Box(-1, 1, (1,), float32)`: the torque in units of Pendulum's maximum torque 2 N m
    (Pendulum-v1's torque is 2 * action).

    ## Observation Space
    `Box((3 + distractors,), float32)`: cos(theta), sin(theta), theta_dot (|.| <= 8),
    then the distractors, each in [-20, 20].

    ## Rewards
    -(theta^2 + 0.1 theta_dot^2 + 0.001 torque^2) with theta normalised to [-pi, pi];
    at most 0.

    ## Starting State
    theta uniform in [-pi, pi], theta_dot uniform in [-1, 1]; distractors N(0, 0.1).

    ## Episode End
    Never terminates; truncated after 200 steps by the registered time limit.

    ## Arguments
    `gym.make("tacsuite/PendulumDistractor-v0", distractors=10, distractor_seed=0)`:
    the number of distractor dimensions (0 gives plain Pendulum) and the seed of their map.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(self, distractors: int = 10, distractor_seed: int = 0,
                 render_mode: str | None = None):
        check_int("distractors", distractors, 0, 1000)
        check_int("distractor_seed", distractor_seed, 0)
        self._set_render_mode(render_mode)
        self.pendulum = PendulumEnv()
        self.distractors = Distractors(distractors, distractor_seed)
        self.n_distractors = self.distractors.n
        self.true_dims = 3
        self.action_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.observation_space = _extend(self.pendulum.observation_space, self.n_distractors,
                                         "Pendulum")
        self._d = np.zeros(self.n_distractors)
        self._seed = int(distractor_seed)

    def _obs(self, obs) -> np.ndarray:
        return np.concatenate([np.asarray(obs, np.float32), self._d.astype(np.float32)])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, _ = self.pendulum.reset(seed=None if seed is None else int(seed))
        self._d = self.distractors.start(self.np_random)
        return self._obs(obs), {}

    def step(self, action):
        a = 2.0 * check_action(self.action_space, action).astype(np.float32)
        obs, reward, _, _, _ = self.pendulum.step(a)
        self._d = self.distractors.step(self._d)
        return self._obs(obs), float(reward), False, False, {}

    def _render_rgb(self) -> np.ndarray:
        """The pendulum (orange, pivot at the centre) and the distractors as bars (blue)."""
        width, height = 320, 240
        canvas = Canvas(height, width)
        cx, cy, rod = 110.0, 120.0, 80.0
        theta = float(self.pendulum.state[0])
        canvas.disc(cx, cy, rod + 6, LIGHT)
        canvas.line(cx, cy, cx + rod * np.sin(theta), cy - rod * np.cos(theta), 8, ORANGE)
        canvas.disc(cx, cy, 5, DARK)
        n = max(self.n_distractors, 1)
        x0, x1 = 220.0, 310.0
        canvas.line(x0, cy, x1, cy, 1, GREY)
        step = (x1 - x0) / n
        for k, value in enumerate(self._d):
            top = cy - float(np.clip(value, -BOUND, BOUND)) / BOUND * 100.0
            canvas.rect(x0 + k * step + 1, cy, x0 + (k + 1) * step - 1, top, BLUE)
        return canvas.image
