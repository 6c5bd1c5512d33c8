"""The single env over a batched transition function (PanFlute, ProcMaze, ButtonGrid).

Each of these testbeds keeps its rules in a `...Dynamics` object whose `reset(rng, batch)`
and `step(obs, actions, rng)` work on batches of flat 0/1 observations, so the
perfect-model agent rolls out the env's own code. The env holds a batch of one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.binary_grid import binary_space
from tacsuite.envs.validation import check_action


class BatchedDynamicsEnv(SuiteEnv):
    """A `SuiteEnv` whose state `_obs` is one observation (a batch of one) of `dynamics`."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10}

    def _set_dynamics(self, dynamics, n_actions: int) -> None:
        """Play `dynamics` (with `obs_dim`, `reset` and `step`) with `Discrete(n_actions)`."""
        self.dynamics = dynamics
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = binary_space(dynamics.obs_dim)
        # A layout exists before the first reset, so the properties and render work.
        self._obs = dynamics.reset(np.random.default_rng(0))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._obs = self.dynamics.reset(self.np_random)
        return self._obs[0].copy(), {}

    def step(self, action):
        a = check_action(self.action_space, action)
        self._obs, reward, term = self.dynamics.step(self._obs, np.array([a]), self.np_random)
        return self._obs[0].copy(), float(reward[0]), bool(term[0]), False, {}
