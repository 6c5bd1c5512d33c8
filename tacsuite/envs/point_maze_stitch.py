"""PointMazeStitch: the MBRCSL Point Maze on MuJoCo (optional extra `tacsuite[mujoco]`)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.grid_stitch import draw_maze
from tacsuite.envs.validation import check_action, check_choice

# The MBRCSL 4x6 map with gymnasium-robotics cell codes: "r" = reset (start), "g" = goal.
MAZE_MAP = [[1, 1, 1, 1, 1, 1],
            [1, 0, "r", 1, 1, 1],
            [1, 0, 0, 0, "g", 1],
            [1, 1, 1, 1, 1, 1]]
START_CELL, MID_CELL, GOAL_CELL = (1, 2), (2, 2), (2, 4)
HORIZON = 200
OBS_HIGH = np.array([3.0, 2.0, 5.0, 5.0], np.float32)  # maze extent (m) and speed clip (m/s)


def require_mujoco():
    try:
        from gymnasium_robotics.envs.maze.point_maze import PointMazeEnv
    except ImportError as exc:
        raise ImportError("tacsuite/PointMazeStitch-v0 needs MuJoCo and gymnasium-robotics: "
                          "pip install 'tacsuite[mujoco]'") from exc
    return PointMazeEnv


def mujoco_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("mujoco", "gymnasium_robotics"))


def cell_xy(cell: tuple[int, int]) -> np.ndarray:
    """Centre of a map cell in MuJoCo coordinates (x = col - 2.5, y = 1.5 - row)."""
    row, col = cell
    return np.array([col - 2.5, 1.5 - row])


class PointMazeStitchEnv(SuiteEnv):
    """A MuJoCo point mass in the 4x6 U-maze; its dataset needs stitching (MBRCSL Point Maze).

    ## Description
    gymnasium-robotics' `PointMazeEnv` with the map of Zhou et al. (ICLR 2024): start cell
    S (row 1, col 2), midpoint M (2, 2), goal G (2, 4). The faster route S -> M -> G is
    only in the data as two halves (see `tacsuite/GridStitch-v0` for the numpy version).
    Needs `pip install 'tacsuite[mujoco]'`; the id is registered only when it imports.

    ## Action Space
    `Box(-1, 1, (2,), float32)`: force on the ball along x and y.

    ## Observation Space
    `Box([-3, -2, -5, -5], [3, 2, 5, 5], (4,), float32)`: position (x, y) and velocity.

    ## Rewards
    `reward_type="sparse"` (default): 1.0 within 0.45 of the goal, else 0.0;
    `"dense"` (the MBRCSL paper's choice): exp(-distance to the goal). Sparse is the default
    because a learned dense reward is optimistic near the goal, which blurs the return
    filter that MBRCSL relies on.

    ## Starting State
    S's centre plus uniform noise of +-0.25 per axis; the goal is exactly G's centre (the
    library adds noise to it; it is removed so that the reward depends on the observation).

    ## Episode End
    Never terminates (the full horizon is played, as in MBRCSL); truncated after 200 steps.

    ## Arguments
    `gym.make("tacsuite/PointMazeStitch-v0", reward_type="sparse")`.

    ## Version History
    - v0: initial version (gymnasium-robotics PointMaze v3 physics).
    """

    # MuJoCo's own renderer needs an OpenGL context that headless machines lack, so frames
    # are a numpy top view of the map and the ball (the same drawing as GridStitch).
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, reward_type: str = "sparse", render_mode: str | None = None):
        check_choice("reward_type", reward_type, ("dense", "sparse"))
        self._set_render_mode(render_mode)
        point_maze = require_mujoco()
        self._env = point_maze(maze_map=MAZE_MAP, reward_type=reward_type,
                               continuing_task=True, reset_target=False)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = spaces.Box(-OBS_HIGH, OBS_HIGH, dtype=np.float32)
        self._xy = cell_xy(START_CELL)
        self.goal = cell_xy(GOAL_CELL)

    def _obs(self, obs: dict) -> np.ndarray:
        return np.clip(obs["observation"], -OBS_HIGH, OBS_HIGH).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        inner_seed = int(self.np_random.integers(2**31))
        obs, _ = self._env.reset(seed=inner_seed)
        # A fixed goal keeps the reward a function of the observation, which holds no
        # goal; with the library's goal noise a learned reward model can only predict the
        # chance of success, and the return filter never fires.
        self._env.goal = cell_xy(GOAL_CELL)
        self._env.update_target_site_pos()
        self.goal = self._env.goal.copy()
        self._xy = np.array(obs["observation"][:2], dtype=np.float64)
        return self._obs(obs), {}

    def step(self, action):
        a = check_action(self.action_space, action)
        obs, reward, _, _, info = self._env.step(a.astype(np.float64))
        self._xy = np.array(obs["observation"][:2], dtype=np.float64)
        return (self._obs(obs), float(reward), False, False,
                {"is_success": bool(info.get("success", False))})

    def _render_rgb(self) -> np.ndarray:
        walls = np.array([[1 if v == 1 else 0 for v in row] for row in MAZE_MAP])
        # MuJoCo (x, y) -> map coordinates in cells: a cell centre (col + 0.5, row + 0.5)
        # sits at x = col - 2.5, y = 1.5 - row.
        pos = np.array([self._xy[0] + 3.0, 2.0 - self._xy[1]])
        goal = np.array([self.goal[0] + 3.0, 2.0 - self.goal[1]])
        return draw_maze(walls, pos, goal, 0.45)

    def close(self):
        self._env.close()


SHORT_ROUTE = (START_CELL, MID_CELL)
DETOUR_ROUTE = (START_CELL, (1, 1), (2, 1), MID_CELL, (2, 3), GOAL_CELL)
OPTIMAL_ROUTE = (START_CELL, MID_CELL, (2, 3), GOAL_CELL)


class PDWaypointPolicy:
    """The D4RL-style maze controller: `clip(kp * (waypoint - pos) - kd * vel) + noise`.

    Intermediate waypoints count as reached within `tolerance` at a speed of at most
    `max_speed` (as in the MBRCSL generator), so routes pass the midpoint slowly, in states
    close to those of the runs that stop there; the last waypoint is held.
    """

    def __init__(self, route, rng: np.random.Generator, kp: float = 10.0, kd: float = 1.0,
                 noise: float = 0.1, tolerance: float = 0.5, max_speed: float = 0.5):
        if len(route) < 1:
            raise ValueError("route needs at least one cell")
        self.waypoints = [cell_xy(c) for c in route]
        self.rng, self.kp, self.kd, self.noise, self.tolerance = rng, kp, kd, noise, tolerance
        self.max_speed = max_speed
        self.index = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        pos, vel = np.asarray(obs[:2], np.float64), np.asarray(obs[2:4], np.float64)
        while (self.index < len(self.waypoints) - 1
               and np.linalg.norm(self.waypoints[self.index] - pos) < self.tolerance
               and np.linalg.norm(vel) <= self.max_speed):
            self.index += 1
        a = self.kp * (self.waypoints[self.index] - pos) - self.kd * vel
        a = np.clip(a, -1, 1) + self.noise * self.rng.standard_normal(2)
        return np.clip(a, -1, 1).astype(np.float32)
