"""GridStitch: a point in the MBRCSL 4x6 U-shaped maze, where the best route must be stitched."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.raster import DARK, GREEN, LIGHT, RED, Canvas
from tacsuite.envs.validation import check_action, check_real

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


class GridStitchEnv(SuiteEnv):
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
        self.start_noise = check_real("start_noise", start_noise, 0.0, 0.3)
        self._set_render_mode(render_mode)
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

    def _render_rgb(self) -> np.ndarray:
        """The maze (walls dark), the goal disc (green) and the point (red)."""
        return draw_maze(MAZE, self._pos, self.goal, GOAL_RADIUS)


def draw_maze(maze: np.ndarray, pos, goal, goal_radius: float, scale: int = 40) -> np.ndarray:
    """A top view of a maze map (1 = wall; x = column, y = row, in cells)."""
    rows, cols = maze.shape
    canvas = Canvas(rows * scale, cols * scale, LIGHT)
    for r in range(rows):
        for c in range(cols):
            if maze[r, c]:
                canvas.rect(c * scale, r * scale, (c + 1) * scale - 1, (r + 1) * scale - 1, DARK)
    canvas.disc(goal[0] * scale, goal[1] * scale, goal_radius * scale, GREEN)
    canvas.disc(pos[0] * scale, pos[1] * scale, 0.12 * scale, RED)
    return canvas.image


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
