"""CartPole with d-rectangular features and test-time perturbations of its physics."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.raster import BLUE, DARK, LIGHT, ORANGE, Canvas
from tacsuite.envs.validation import check_action, check_choice, check_int, check_real

# Observation bounds; velocities are clipped into them in the observation only.
OBS_HIGH = np.array([4.8, 10.0, 0.42, 10.0])
X_LIMIT, THETA_LIMIT = 2.4, 12 * 2 * np.pi / 360
FEATURE_SCALE = np.array([2.4, 3.0, THETA_LIMIT, 3.5])


def state_features(state: np.ndarray, kind: str, n: int) -> np.ndarray:
    """A probability vector over n^4 cells of the scaled state.

    "rbf": Gaussian bumps on an n-per-axis grid, divided by their sum (normalised RBF);
    "bins": one-hot of the grid cell (state aggregation). Both are >= 0 and sum to 1.
    """
    z = np.clip(np.asarray(state, dtype=np.float64) / FEATURE_SCALE, -1.0, 1.0)
    grid = np.linspace(-1.0, 1.0, n)
    if kind == "bins":
        idx = np.clip(np.round((z + 1.0) / 2.0 * (n - 1)).astype(int), 0, n - 1)
        out = np.zeros(n ** 4)
        out[np.ravel_multi_index(tuple(idx), (n,) * 4)] = 1.0
        return out
    width = 2.0 / (n - 1)
    per_axis = np.exp(-0.5 * ((z[:, None] - grid[None, :]) / width) ** 2)  # (4, n)
    per_axis /= per_axis.sum(axis=1, keepdims=True)
    out = per_axis[0][:, None, None, None] * per_axis[1][None, :, None, None] \
        * per_axis[2][None, None, :, None] * per_axis[3][None, None, None, :]
    return out.ravel()


class RobustCartPoleEnv(SuiteEnv):
    """CartPole with d-rectangular features and perturbable pole length, masses and force.

    ## Description
    The classic cart-pole balancing task (Barto, Sutton & Anderson 1983) with its own numpy
    dynamics (Euler integration, 0.02 s steps), made for robust RL with linear function
    approximation: `info["features"]` is a d-rectangular feature map phi(s, a) =
    f(s) (x) one-hot(a), where f is a normalised-RBF or state-aggregation probability
    vector. The physical parameters and an action-noise probability are constructor
    arguments, so an agent trained with the defaults can be tested under perturbations.

    ## Action Space
    `Discrete(2)`: 0 = push left, 1 = push right (with probability `action_noise` the env
    applies a uniformly random action instead).

    ## Observation Space
    `Box(-high, high, (4,), float32)` with high = (4.8, 10, 0.42, 10): cart position,
    cart velocity, pole angle, pole angular velocity (velocities clipped to the bounds).

    ## Rewards
    +1 for every step, including the terminating one.

    ## Starting State
    Every state variable uniform on [-0.05, 0.05].

    ## Episode End
    Terminated when |x| > 2.4 or |theta| > 12 degrees; truncated after `horizon` steps.

    ## Arguments
    `gym.make("tacsuite/RobustCartPole-v0", length=0.5, masscart=1.0, masspole=0.1,
    force_mag=10.0, gravity=9.8, action_noise=0.0, features="rbf", n_centers=3,
    horizon=100)`; d = 2 * n_centers^4. The unwrapped env exposes `features(state)`.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}  # 1 / tau
    tau = 0.02
    max_reward = 1.0

    def __init__(self, length: float = 0.5, masscart: float = 1.0, masspole: float = 0.1,
                 force_mag: float = 10.0, gravity: float = 9.8, action_noise: float = 0.0,
                 features: str = "rbf", n_centers: int = 3, horizon: int = 100,
                 render_mode: str | None = None):
        for name, val in (("length", length), ("masscart", masscart), ("masspole", masspole),
                          ("force_mag", force_mag), ("gravity", gravity)):
            check_real(name, val, 0.0, low_open=True)
        check_real("action_noise", action_noise, 0.0, 1.0)
        check_choice("features", features, ("rbf", "bins"))
        # d = 2 n^4 features per step and an (H, d) mask: n = 12 is already 41,472.
        check_int("n_centers", n_centers, 2, 12)
        check_int("horizon", horizon, 1, 10_000)
        self._set_render_mode(render_mode)
        self.length, self.masscart, self.masspole = float(length), float(masscart), \
            float(masspole)
        self.force_mag, self.gravity = float(force_mag), float(gravity)
        self.action_noise = float(action_noise)
        self.feature_kind, self.n_centers, self.horizon = features, n_centers, horizon
        self.action_space = spaces.Discrete(2)
        high = OBS_HIGH.astype(np.float32)
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.uncertain = np.ones((horizon, 2 * n_centers ** 4), dtype=bool)
        self.state = np.zeros(4)
        self.h = 0

    def features(self, state: np.ndarray) -> np.ndarray:
        f = state_features(state, self.feature_kind, self.n_centers)
        out = np.zeros((2, 2 * f.size))
        out[0, :f.size] = f
        out[1, f.size:] = f
        return out

    def _obs(self) -> np.ndarray:
        return np.clip(self.state, -OBS_HIGH, OBS_HIGH).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.state = self.np_random.uniform(-0.05, 0.05, size=4)
        self.h = 0
        return self._obs(), {"features": self.features(self.state), "step": 0}

    def step(self, action):
        a = check_action(self.action_space, action)
        if self.action_noise > 0 and self.np_random.random() < self.action_noise:
            a = int(self.np_random.integers(2))
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if a == 1 else -self.force_mag
        total = self.masspole + self.masscart
        half = self.length
        pml = self.masspole * half
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + pml * theta_dot ** 2 * sin) / total
        theta_acc = (self.gravity * sin - cos * temp) / (
            half * (4.0 / 3.0 - self.masspole * cos ** 2 / total))
        x_acc = temp - pml * theta_acc * cos / total
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * x_acc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc
        self.state = np.array([x, x_dot, theta, theta_dot])
        self.h += 1
        terminated = bool(abs(x) > X_LIMIT or abs(theta) > THETA_LIMIT)
        truncated = bool(not terminated and self.h >= self.horizon)
        return self._obs(), 1.0, terminated, truncated, \
            {"features": self.features(self.state), "step": self.h}

    def _render_rgb(self) -> np.ndarray:
        """Cart (blue) and pole (orange) on the track; the track spans |x| <= 2.4 m."""
        width, height = 400, 240
        scale = (width - 40) / (2 * X_LIMIT)
        canvas = Canvas(height, width)
        ground = height - 60
        canvas.line(20, ground, width - 20, ground, 2, DARK)
        for x in (-X_LIMIT, X_LIMIT):
            canvas.line(width / 2 + x * scale, ground - 8, width / 2 + x * scale, ground + 8,
                        2, DARK)
        x, _, theta, _ = self.state
        cx = width / 2 + float(np.clip(x, -X_LIMIT - 0.2, X_LIMIT + 0.2)) * scale
        canvas.rect(cx - 24, ground - 28, cx + 24, ground - 4, BLUE)
        pole = 2 * self.length * scale
        top = (cx + pole * np.sin(theta), ground - 28 - pole * np.cos(theta))
        canvas.line(cx, ground - 28, *top, 6, ORANGE)
        canvas.disc(cx, ground - 28, 4, LIGHT)
        return canvas.image
