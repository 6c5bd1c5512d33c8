"""An American put option on a binomial price: when to exercise, with hat-function features."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.raster import BLUE, GREY, LIGHT, RED, Canvas
from tacsuite.envs.validation import check_action, check_int, check_real

HOLD, EXERCISE = 0, 1


def hat_features(price: float, d: int, low: float = 80.0, width: float | None = None
                 ) -> np.ndarray:
    """d hat functions max(0, 1 - |s - c_i| / width), c_i = low + i width, on a clipped price.

    Clipping the price to [c_0, c_{d-1}] keeps the hats a partition of unity, so the
    feature vector is a probability vector (the d-rectangular requirement).
    """
    width = 100.0 / d if width is None else width
    centres = low + width * np.arange(d)
    s = float(np.clip(price, centres[0], centres[-1]))
    return np.maximum(0.0, 1.0 - np.abs(s - centres) / width)


class AmericanPutOptionEnv(SuiteEnv):
    """Hold or exercise an American put whose price moves up 2% or down 2% each step.

    ## Description
    The option-pricing testbed of Ma et al. (2022) for distributionally robust linear RL:
    the price follows s' = 1.02 s with probability `p` (nominal 0.5) and 0.98 s otherwise;
    exercising pays max(0, K - s) with strike K = 100 and ends the episode. A robust agent
    trained at p = 0.5 should hold up when the test-time up-probability differs.

    ## Action Space
    `Discrete(2)`: 0 = hold, 1 = exercise.

    ## Observation Space
    `Box(low=[0, 0], high=[400, H], shape=(2,), float32)`: the price and the step h.
    `info["features"]` holds phi(s, a) for both actions, shape (2, 2d): the d hat features
    of the (clipped) price in the block of the chosen action, so each row sums to 1.

    ## Rewards
    max(0, K - s) on exercise, 0 on hold.

    ## Starting State
    s_1 uniform on [95, 105].

    ## Episode End
    Terminated on exercise; truncated after H = 20 steps (the option expires).

    ## Arguments
    `gym.make("tacsuite/AmericanPutOption-v0", p=0.5, d=30, horizon=20, strike=100.0)`.
    The unwrapped env exposes `features(price)` and `uncertain` (H x 2d mask, all True).

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}
    up, down = 1.02, 0.98
    price_high = 400.0

    def __init__(self, p: float = 0.5, d: int = 30, horizon: int = 20, strike: float = 100.0,
                 render_mode: str | None = None):
        p = check_real("p (up-probability)", p, 0.0, 1.0)
        d = check_int("d (number of hat features)", d, 2, 1000)
        horizon = check_int("horizon", horizon, 1, 10_000)
        strike = check_real("strike", strike, 0.0, self.price_high / 2, low_open=True,
                            high_open=True)
        self._set_render_mode(render_mode)
        self.p, self.d, self.horizon, self.strike = p, d, horizon, strike
        self.max_reward = self.strike
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(np.zeros(2, np.float32),
                                            np.array([self.price_high, horizon], np.float32),
                                            dtype=np.float32)
        self.uncertain = np.ones((horizon, 2 * d), dtype=bool)
        self.price, self.h = 100.0, 0
        self._path: list[float] = [self.price]
        self._exercised = False

    def features(self, price: float) -> np.ndarray:
        hats = hat_features(price, self.d, low=self.strike - 20.0)
        out = np.zeros((2, 2 * self.d))
        out[HOLD, :self.d] = hats
        out[EXERCISE, self.d:] = hats
        return out

    def _obs(self) -> np.ndarray:
        return np.array([min(self.price, self.price_high), self.h], dtype=np.float32)

    def _info(self) -> dict[str, Any]:
        return {"features": self.features(self.price), "step": self.h}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.price = float(self.np_random.uniform(self.strike - 5.0, self.strike + 5.0))
        self.h = 0
        self._path, self._exercised = [self.price], False
        return self._obs(), self._info()

    def step(self, action):
        a = check_action(self.action_space, action)
        self.h += 1
        if a == EXERCISE:
            self._exercised = True
            return self._obs(), float(max(0.0, self.strike - self.price)), True, False, \
                self._info()
        up = self.np_random.random() < self.p
        self.price *= self.up if up else self.down
        self._path.append(self.price)
        return self._obs(), 0.0, False, self.h >= self.horizon, self._info()

    def _render_rgb(self) -> np.ndarray:
        """The episode's price path against time (grey line: the strike; red dot: exercised)."""
        width, height, pad = 320, 200, 10
        lo, hi = self.strike * 0.6, self.strike * 1.4
        canvas = Canvas(height, width).rect(pad, pad, width - pad, height - pad, LIGHT)

        def xy(h, price):
            y = (hi - np.clip(price, lo, hi)) / (hi - lo)
            return pad + (width - 2 * pad) * h / self.horizon, pad + (height - 2 * pad) * y

        canvas.line(*xy(0, self.strike), *xy(self.horizon, self.strike), 2, GREY)
        pts = [xy(h, price) for h, price in enumerate(self._path)]
        canvas.polyline([p[0] for p in pts], [p[1] for p in pts], 2, BLUE)
        canvas.disc(*pts[-1], 5, RED if self._exercised else BLUE)
        return canvas.image
