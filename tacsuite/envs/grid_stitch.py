"""GridStitch: a point in the MBRCSL 4x6 U-shaped maze, where the best route must be stitched."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tacsuite.envs.validation import check_action

# Rows top to bottom, 1 = wall; the open cells form the MBRCSL Point Maze U.
MAZE = np.array([[1, 1, 1, 1, 1, 1],
                 [1, 0, 0, 1, 1, 1],
                 [1, 0, 0, 0, 0, 1],
                 [1, 1, 1, 1, 1, 1]], dtype=np.int8)
START_CELL = (1, 2)
MID_CELL = (2, 2)
GOAL_CELL = (2, 4)
HORIZON = 40
STEP_SIZE = 0.25
WALL_MARGIN = 0.15
GOAL_RADIUS = 0.5


def cell_center(cell: tuple[int, int]) -> np.ndarray:
    """(x, y) of a cell's centre: x grows with the column, y with the row."""
    row, col = cell
    return np.array([col + 0.5, row + 0.5])


def is_free(x: float, y: float, margin: float = WALL_MARGIN) -> bool:
    """Whether a point keeps `margin` clearance from every wall cell."""
    for dx in (-margin, margin):
        for dy in (-margin, margin):
            col, row = int(np.floor(x + dx)), int(np.floor(y + dy))
            if not (0 <= row < MAZE.shape[0] and 0 <= col < MAZE.shape[1]) or MAZE[row, col]:
                return False
    return True


def move(pos: np.ndarray, action: np.ndarray, step: float = STEP_SIZE) -> np.ndarray:
    """One step with per-axis collision: a blocked axis keeps its old coordinate."""
    x, y = float(pos[0]), float(pos[1])
    nx = x + step * float(action[0])
    if is_free(nx, y):
        x = nx
    ny = y + step * float(action[1])
    if is_free(x, ny):
        y = ny
    return np.array([x, y])


def goal_reward(pos: np.ndarray, goal: np.ndarray, radius: float = GOAL_RADIUS) -> float:
    return float(np.linalg.norm(np.asarray(pos) - goal) < radius)


class GridStitchEnv(gym.Env):
    """A point in the 4x6 U-maze; the optimal path exists in offline data only as a stitch.

    ## Description
    A dependency-free counterpart of the MBRCSL Point Maze (Zhou et al., ICLR 2024). A
    point moves in continuous cell coordinates through the U-shaped map
    ```
    # # # # # #
    # . S # # #      S = start cell (row 1, col 2)
    # . M . G #      M = midpoint (2, 2), G = goal (2, 4)
    # # # # # #
    ```
    The shortest route is S -> M -> G. The companion dataset (`tacsuite data make
    gridstitch-mixed`) holds S -> M trajectories and detours S -> left -> down -> M -> G,
    so the optimal route is only available by stitching.

    ## Action Space
    `Box(-1, 1, (2,), float32)`: the step direction; the point moves by 0.25 * action.

    ## Observation Space
    `Box([0, 0], [6, 4], (2,), float32)`: the (x, y) position, x = column, y = row.

    ## Rewards
    Sparse: 1.0 while the point is within 0.5 of the goal cell's centre, else 0.0. A
    scripted shortest path scores about 30 in 40 steps; the detour about 22.

    ## Transitions
    Deterministic: x then y are updated separately, and an axis whose move would bring
    the point within 0.15 of a wall keeps its old coordinate.

    ## Starting State
    The start cell's centre plus uniform noise in [-0.1, 0.1] per axis.

    ## Episode End
    Never terminates (the MBRCSL protocol plays the full horizon); the registered
    `TimeLimit` truncates after 40 steps.

    ## Arguments
    `gym.make("tacsuite/GridStitch-v0", start_noise=0.1)`.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, start_noise: float = 0.1, render_mode: str | None = None):
        if not 0.0 <= float(start_noise) <= 0.3:
            raise ValueError(f"start_noise must be in [0, 0.3], got {start_noise!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.start_noise = float(start_noise)
        self.render_mode = render_mode
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = spaces.Box(np.zeros(2, np.float32),
                                            np.array([6.0, 4.0], np.float32), dtype=np.float32)
        self.start = cell_center(START_CELL)
        self.goal = cell_center(GOAL_CELL)
        self._pos = self.start.copy()

    def _obs(self) -> np.ndarray:
        return self._pos.astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        noise = self.np_random.uniform(-self.start_noise, self.start_noise, size=2)
        self._pos = self.start + noise
        return self._obs(), {}

    def step(self, action):
        a = check_action(self.action_space, action)
        self._pos = move(self._pos, a)
        reward = goal_reward(self._pos, self.goal)
        return self._obs(), reward, False, False, {"is_success": bool(reward > 0)}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        scale = 16
        img = np.where(np.kron(MAZE, np.ones((scale, scale), np.int8))[..., None] == 1,
                       np.uint8(60), np.uint8(235)).repeat(3, axis=2)
        gx, gy = (self.goal * scale).astype(int)
        img[gy - 3:gy + 3, gx - 3:gx + 3] = (40, 170, 60)
        px, py = (self._pos * scale).astype(int)
        img[py - 2:py + 3, px - 2:px + 3] = (200, 40, 40)
        return img


SHORT_ROUTE = (START_CELL, MID_CELL)
DETOUR_ROUTE = (START_CELL, (1, 1), (2, 1), MID_CELL, (2, 3), GOAL_CELL)
OPTIMAL_ROUTE = (START_CELL, MID_CELL, (2, 3), GOAL_CELL)


class WaypointPolicy:
    """Scripted controller: steer at the next cell centre, `clip(gain * error) + noise`.

    A waypoint counts as reached within `tolerance`; after the last one the controller
    keeps steering to it (the dataset's "hold" behaviour).
    """

    def __init__(self, route, rng: np.random.Generator, gain: float = 3.0, noise: float = 0.1,
                 tolerance: float = 0.2):
        if len(route) < 1:
            raise ValueError("route needs at least one cell")
        self.waypoints = [cell_center(c) for c in route]
        self.rng, self.gain, self.noise, self.tolerance = rng, gain, noise, tolerance
        self.index = 0

    def reset(self) -> None:
        self.index = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        pos = np.asarray(obs, dtype=np.float64)
        while (self.index < len(self.waypoints) - 1
               and np.linalg.norm(self.waypoints[self.index] - pos) < self.tolerance):
            self.index += 1
        a = np.clip(self.gain * (self.waypoints[self.index] - pos), -1, 1)
        a = a + self.noise * self.rng.standard_normal(2)
        return np.clip(a, -1, 1).astype(np.float32)
