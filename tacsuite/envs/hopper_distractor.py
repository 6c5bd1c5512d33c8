"""Hopper (Gymnasium's MuJoCo Hopper-v5) with VaGraM's chaotic distractor dimensions."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.raster import BLUE, DARK, GREY, ORANGE, Canvas
from tacsuite.envs.validation import check_action, check_int
from tacsuite.envs.wrappers import BOUND, Distractors


class HopperDistractorEnv(SuiteEnv):
    """One-legged hopper whose observation carries chaotic distractor dimensions.

    ## Description
    Gymnasium's MuJoCo `Hopper-v5` (default options) with `distractors` dimensions of
    VaGraM's bounded chaotic map appended to the observation (`tacsuite.envs.wrappers`),
    the setting of Voelcker et al. (ICLR 2022). They never affect reward or dynamics.
    Needs the `mujoco` extra.

    ## Action Space
    `Box(-1, 1, (3,), float32)`: torques of the thigh, leg and foot joints.

    ## Observation Space
    `Box((11 + distractors,), float32)`: Hopper-v5's 11 positions and velocities
    (unbounded), then the distractors, each in [-20, 20].

    ## Rewards
    Hopper-v5's: 1 for being healthy + forward velocity - 0.001 * |action|^2.

    ## Starting State
    Hopper-v5's (initial pose plus uniform noise of 0.005); distractors N(0, 0.1).

    ## Episode End
    Terminated when the hopper is unhealthy (Hopper-v5's rule: falls, leans, or leaves its
    state bounds); truncated after 1000 steps by the registered time limit.

    ## Arguments
    `gym.make("tacsuite/HopperDistractor-v0", distractors=10, distractor_seed=0)`.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 125}

    def __init__(self, distractors: int = 10, distractor_seed: int = 0,
                 render_mode: str | None = None):
        check_int("distractors", distractors, 0, 1000)
        check_int("distractor_seed", distractor_seed, 0)
        self._set_render_mode(render_mode)
        from gymnasium.envs.mujoco.hopper_v5 import HopperEnv

        self.hopper = HopperEnv()
        self.distractors = Distractors(distractors, distractor_seed)
        self.n_distractors = self.distractors.n
        self.true_dims = int(self.hopper.observation_space.shape[0])
        self.action_space = spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
        big = np.finfo(np.float32).max
        low = np.concatenate([np.full(self.true_dims, -big, np.float32),
                              np.full(self.n_distractors, -BOUND, np.float32)])
        self.observation_space = spaces.Box(low, -low, dtype=np.float32)
        self._d = np.zeros(self.n_distractors)

    def _obs(self, obs) -> np.ndarray:
        return np.concatenate([np.asarray(obs, np.float32), self._d.astype(np.float32)])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, _ = self.hopper.reset(seed=None if seed is None else int(seed))
        self._d = self.distractors.start(self.np_random)
        return self._obs(obs), {}

    def step(self, action):
        a = check_action(self.action_space, action)
        obs, reward, terminated, _, _ = self.hopper.step(a)
        self._d = self.distractors.step(self._d)
        return self._obs(obs), float(reward), bool(terminated), False, {}

    def _render_rgb(self) -> np.ndarray:
        """Side view: the hopper's bodies (torso orange, leg blue) over the ground, camera
        following the torso; distractors as bars on the right."""
        width, height, scale = 320, 240, 70.0
        canvas = Canvas(height, width)
        ground = height - 30.0
        canvas.line(0, ground, 220, ground, 2, DARK)
        xpos = self.hopper.data.xpos[1:]  # bodies after the world: torso, thigh, leg, foot
        cx = float(xpos[0, 0])
        pts = [(110 + (x - cx) * scale, ground - z * scale) for x, _, z in xpos]
        for i, (p, q) in enumerate(zip(pts[:-1], pts[1:], strict=True)):
            canvas.line(*p, *q, 7, ORANGE if i == 0 else BLUE)
        n = max(self.n_distractors, 1)
        x0, x1, mid = 230.0, 315.0, height / 2
        canvas.line(x0, mid, x1, mid, 1, GREY)
        step = (x1 - x0) / n
        for k, value in enumerate(self._d):
            top = mid - float(np.clip(value, -BOUND, BOUND)) / BOUND * 100.0
            canvas.rect(x0 + k * step + 1, mid, x0 + (k + 1) * step - 1, top, BLUE)
        return canvas.image
