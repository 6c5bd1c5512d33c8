"""ProcMaze: a new depth-first-search maze every episode, random start and goal."""

from __future__ import annotations

import math

import numpy as np

from tacsuite.envs.batched import BatchedDynamicsEnv
from tacsuite.envs.binary_grid import ACTION_NAMES, MOVES, cells_of, move, rgb_grid
from tacsuite.envs.validation import check_flag, check_int

PLAYER, GOAL, WALL, EMPTY = 0, 1, 2, 3
CHANNELS = 4


def dfs_maze(grid_size: int, rng: np.random.Generator) -> np.ndarray:
    """Wall mask (g, g) of a randomised depth-first-search maze on the cells themselves.

    From a uniform start cell, a neighbour may be opened when it is unvisited and the
    current cell is its only open 4-neighbour, so the open cells form a tree: connected,
    with exactly one path between any two of them.
    """
    g = grid_size
    opened = np.zeros((g, g), bool)
    start = (int(rng.integers(g)), int(rng.integers(g)))
    opened[start] = True
    stack = [start]
    steps = MOVES[1:]
    while stack:
        r, c = stack.pop()
        candidates = []
        for dr, dc in steps:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < g and 0 <= nc < g) or opened[nr, nc]:
                continue
            open_around = sum(opened[nr + er, nc + ec] for er, ec in steps
                              if 0 <= nr + er < g and 0 <= nc + ec < g)
            if open_around == 1:
                candidates.append((int(nr), int(nc)))
        if candidates:
            chosen = candidates[int(rng.integers(len(candidates)))]
            opened[chosen] = True
            stack += [(r, c), chosen]
    return ~opened


def teleport_probability(grid_size: int) -> float:
    """Per-step chance of a jump to the goal: a tenth of 1 / (longest optimal solve time)."""
    g = grid_size
    return 0.1 / ((g + 1) * math.ceil(g / 2) - g % 2)


class ProcMazeDynamics:
    """Batched transition function on observations; the env and the perfect model share it."""

    def __init__(self, grid_size: int, teleport_probability: float):
        self.grid_size = grid_size
        self.teleport_probability = teleport_probability
        self.obs_dim = grid_size * grid_size * CHANNELS

    def reset(self, rng: np.random.Generator, batch: int = 1) -> np.ndarray:
        """New mazes with distinct start and goal cells drawn uniformly among open cells."""
        cells = self.grid_size**2
        obs = np.zeros((batch, cells, CHANNELS), np.float32)
        for i in range(batch):
            walls = dfs_maze(self.grid_size, rng).ravel()
            start, goal = rng.choice(np.flatnonzero(~walls), size=2, replace=False)
            obs[i, :, WALL] = walls
            obs[i, :, EMPTY] = ~walls
            obs[i, start, PLAYER] = 1.0
            obs[i, goal, GOAL] = 1.0
        return obs.reshape(batch, -1)

    def step(self, obs: np.ndarray, actions: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(next_obs, reward, terminated) for a batch of observations and actions."""
        g, b = self.grid_size, len(obs)
        cur = np.asarray(obs, np.float32).reshape(b, g * g, CHANNELS)
        cell = cells_of(cur, g, CHANNELS, PLAYER)
        goal = cells_of(cur, g, CHANNELS, GOAL)
        rows = np.arange(b)
        new, _ = move(cell, np.asarray(actions), g)
        new = np.where(cur[rows, new, WALL] > 0.5, cell, new)
        if self.teleport_probability > 0:
            new = np.where(rng.random(b) < self.teleport_probability, goal, new)
        nxt = cur.copy()
        nxt[rows, cell, PLAYER] = 0.0
        nxt[rows, new, PLAYER] = 1.0
        return nxt.reshape(b, -1), np.full(b, -1.0), new == goal


class ProcMazeEnv(BatchedDynamicsEnv):
    """Reach the goal of a maze that is generated anew every episode; -1 per step.

    ## Description
    The ProcMaze testbed of Young et al. ("The Benefits of Model-Based Generalization in
    Reinforcement Learning", ICML 2023). Every episode draws a new maze, so the agent
    never sees most layouts twice, yet the local rule (move unless a wall is in the way)
    is the same everywhere: a model of it generalises where a value function does not.

    ## Action Space
    `Discrete(5)`: 0 stay, 1 up, 2 left, 3 down, 4 right (rows grow downward). Moves into a
    wall or off the grid leave the player in place.

    ## Observation Space
    `Box(0, 1, (grid_size * grid_size * 4,), float32)` of 0/1 bits: a `(grid_size,
    grid_size, 4)` array flattened in C order with channels player, goal, wall, empty.

    ## Rewards
    -1.0 every step, including the one that reaches the goal.

    ## Transitions
    Deterministic moves, except that with probability `0.1 / ((g+1) ceil(g/2) - g mod 2)`
    per step (a tenth of the inverse of the longest optimal solve time on a g x g grid)
    the player jumps to the goal ("spontaneous termination", which lets an exploring agent
    see the goal).

    ## Starting State
    A randomised depth-first-search maze (`dfs_maze`: the open cells form a spanning tree),
    with start and goal two distinct uniform open cells.

    ## Episode End
    Terminates when the player is on the goal. No time limit is registered: the jump to
    the goal ends every episode after a geometric number of steps.

    ## Arguments
    `gym.make("tacsuite/ProcMaze-v0", grid_size=4, spontaneous=True)`.

    ## Version History
    - v0: initial version.
    """

    continuing = False  # read by the online agents to pick their evaluation score

    def __init__(self, grid_size: int = 4, spontaneous: bool = True,
                 render_mode: str | None = None):
        grid_size = check_int("grid_size", grid_size, 2, 32)
        spontaneous = check_flag("spontaneous", spontaneous)
        self.grid_size = grid_size
        self._set_render_mode(render_mode)
        p = teleport_probability(grid_size) if spontaneous else 0.0
        self._set_dynamics(ProcMazeDynamics(grid_size, p), len(ACTION_NAMES))

    def _channel(self, c: int) -> np.ndarray:
        return self._obs[0].reshape(self.grid_size, self.grid_size, CHANNELS)[:, :, c] > 0.5

    @property
    def walls(self) -> np.ndarray:
        """(g, g) bool mask of wall cells."""
        return self._channel(WALL)

    @property
    def position(self) -> tuple[int, int]:
        r, c = np.argwhere(self._channel(PLAYER))[0]
        return int(r), int(c)

    @property
    def goal(self) -> tuple[int, int]:
        r, c = np.argwhere(self._channel(GOAL))[0]
        return int(r), int(c)

    def _render_rgb(self) -> np.ndarray:
        return rgb_grid([(self._channel(WALL), (60, 60, 60)), (self._channel(GOAL), (40, 170, 60)),
                         (self._channel(PLAYER), (200, 40, 40))], self.grid_size)
