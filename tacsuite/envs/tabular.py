"""Finite MDPs given by explicit transition and reward arrays.

Every tabular environment of the suite derives from `TabularEnv` and so exposes `P`
(S x A x S) and `R` (S x A) on the unwrapped env: the exact oracles in
`tacsuite.theory` consume the same arrays the environment samples from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.raster import BLUE, LIGHT, Canvas
from tacsuite.envs.validation import check_action


def check_tabular_model(P: np.ndarray, R: np.ndarray, initial: np.ndarray) -> None:
    if P.ndim != 3 or P.shape[0] != P.shape[2]:
        raise ValueError(f"P must have shape (S, A, S), got {P.shape}")
    if R.shape != P.shape[:2]:
        raise ValueError(f"R must have shape {P.shape[:2]}, got {R.shape}")
    if np.any(P < 0) or not np.allclose(P.sum(axis=2), 1.0, atol=1e-9):
        raise ValueError("every row P[s, a, :] must be a probability distribution")
    if initial.shape != (P.shape[0],) or not np.isclose(initial.sum(), 1.0):
        raise ValueError(f"initial must be a distribution over {P.shape[0]} states")


class TabularEnv(SuiteEnv):
    """A finite MDP sampled from `P`, `R` and an initial distribution (continuing)."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, P: np.ndarray, R: np.ndarray, initial: np.ndarray,
                 render_mode: str | None = None):
        P = np.asarray(P, dtype=np.float64)
        R = np.asarray(R, dtype=np.float64)
        initial = np.asarray(initial, dtype=np.float64)
        check_tabular_model(P, R, initial)
        self._set_render_mode(render_mode)
        self.P, self.R, self.initial = P, R, initial
        self._cdf = np.cumsum(P, axis=2)
        self.n_states, self.n_actions = R.shape
        self.observation_space = spaces.Discrete(self.n_states)
        self.action_space = spaces.Discrete(self.n_actions)
        self.state = 0

    def _draw(self, cdf: np.ndarray) -> int:
        return int(min(np.searchsorted(cdf, self.np_random.random(), side="right"),
                       cdf.size - 1))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.state = self._draw(np.cumsum(self.initial))
        return np.int64(self.state), {}

    def step(self, action):
        a = check_action(self.action_space, action)
        s = self.state
        reward = float(self.R[s, a])
        self.state = self._draw(self._cdf[s, a])
        return np.int64(self.state), reward, False, False, {"expected_reward": reward}

    def _render_ansi(self) -> str:
        return " ".join("[*]" if i == self.state else "[ ]" for i in range(self.n_states))

    def _render_rgb(self) -> np.ndarray:
        """The states as cells in rows of at most 24, the current one filled."""
        cols = min(self.n_states, 24)
        rows = -(-self.n_states // cols)
        cell = max(4, min(40, 960 // cols))
        canvas = Canvas(rows * cell + 16, cols * cell + 16)
        for i in range(self.n_states):
            x, y = 8 + (i % cols) * cell, 8 + (i // cols) * cell
            canvas.rect(x + 1, y + 1, x + cell - 2, y + cell - 2,
                        BLUE if i == self.state else LIGHT)
        return canvas.image
