"""ProcMaze-v0: every maze is a spanning tree of its open cells; moves, goal, jump to goal."""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs import proc_maze as pm
from tacsuite.envs.binary_grid import MOVES


def open_neighbours(open_: np.ndarray, r: int, c: int) -> list[tuple[int, int]]:
    g = open_.shape[0]
    return [(r + dr, c + dc) for dr, dc in MOVES[1:]
            if 0 <= r + dr < g and 0 <= c + dc < g and open_[r + dr, c + dc]]


def bfs(open_: np.ndarray, start: tuple[int, int]) -> dict[tuple[int, int], int]:
    dist, todo = {start: 0}, deque([start])
    while todo:
        cell = todo.popleft()
        for nb in open_neighbours(open_, *cell):
            if nb not in dist:
                dist[nb] = dist[cell] + 1
                todo.append(nb)
    return dist


@pytest.mark.parametrize("g", [2, 3, 4, 5, 8])
def test_dfs_maze_is_a_maximal_spanning_tree(g):
    rng = np.random.default_rng(g)
    for _ in range(40):
        open_ = ~pm.dfs_maze(g, rng)
        cells = [tuple(map(int, x)) for x in np.argwhere(open_)]
        assert len(cells) >= 2
        assert len(bfs(open_, cells[0])) == len(cells)  # connected
        edges = sum(len(open_neighbours(open_, *c)) for c in cells) // 2
        assert edges == len(cells) - 1  # a tree: one path between any two open cells
        for r, c in np.argwhere(~open_):  # depth-first search ran to completion
            assert len(open_neighbours(open_, int(r), int(c))) != 1


def test_reset_draws_distinct_open_start_and_goal_and_consistent_channels():
    env = gym.make("tacsuite/ProcMaze-v0", grid_size=4).unwrapped
    for seed in range(30):
        obs, _ = env.reset(seed=seed)
        grid = obs.reshape(4, 4, 4)
        assert grid[:, :, pm.PLAYER].sum() == 1 and grid[:, :, pm.GOAL].sum() == 1
        assert np.array_equal(grid[:, :, pm.WALL] + grid[:, :, pm.EMPTY], np.ones((4, 4)))
        assert env.position != env.goal
        assert not env.walls[env.position] and not env.walls[env.goal]


def test_shortest_path_walk_returns_minus_distance_and_terminates_on_arrival():
    env = gym.make("tacsuite/ProcMaze-v0", grid_size=5, spontaneous=False).unwrapped
    for seed in range(20):
        env.reset(seed=seed)
        to_goal = bfs(~env.walls, env.goal)
        distance = to_goal[env.position]
        total, steps, term = 0.0, 0, False
        while not term:
            r0, c0 = env.position
            closer = to_goal[(r0, c0)] - 1
            action = next(a for a in range(1, 5)
                          if to_goal.get((r0 + MOVES[a][0], c0 + MOVES[a][1])) == closer)
            _, r, term, trunc, _ = env.step(action)
            total, steps = total + r, steps + 1
            assert not trunc and steps <= distance
        assert steps == distance and total == -distance and env.position == env.goal


def test_walls_and_edges_block_moves_exactly():
    env = gym.make("tacsuite/ProcMaze-v0", grid_size=4, spontaneous=False).unwrapped
    for seed in range(20):
        env.reset(seed=seed)
        for a in range(5):
            before = env.position
            target = (before[0] + MOVES[a][0], before[1] + MOVES[a][1])
            inside = 0 <= target[0] < 4 and 0 <= target[1] < 4
            expect = target if inside and not env.walls[target] else before
            _, r, term, _, _ = env.step(a)
            assert env.position == expect and r == -1.0 and term == (expect == env.goal)
            if term:
                break


def test_teleport_probability_formula_and_rate():
    assert pm.teleport_probability(4) == pytest.approx(0.1 / 10)
    assert pm.teleport_probability(5) == pytest.approx(0.1 / 17)
    assert pm.teleport_probability(10) == pytest.approx(0.1 / 55)
    # standing still, only the jump ends an episode: lengths are geometric with mean 1/p
    env = gym.make("tacsuite/ProcMaze-v0", grid_size=2).unwrapped
    env.reset(seed=0)
    lengths, n = [], 0
    while len(lengths) < 400:
        n += 1
        if env.step(0)[2]:
            lengths.append(n)
            n = 0
            env.reset()
    assert np.mean(lengths) == pytest.approx(1 / pm.teleport_probability(2), rel=0.15)


def test_batched_dynamics_match_one_by_one():
    dyn = pm.ProcMazeDynamics(4, 0.0)
    rng = np.random.default_rng(0)
    obs = dyn.reset(rng, 16)
    actions = rng.integers(0, 5, 16)
    nxt, r, term = dyn.step(obs, actions, rng)
    for i in range(16):
        n1, r1, t1 = dyn.step(obs[i:i + 1], actions[i:i + 1], rng)
        assert np.array_equal(n1[0], nxt[i]) and r1[0] == r[i] and t1[0] == term[i]


def test_bad_arguments_are_rejected():
    for kwargs in ({"grid_size": 1}, {"grid_size": 2.5}, {"spontaneous": 1},
                   {"render_mode": "human"}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            pm.ProcMazeEnv(**kwargs)


def test_render_rgb_array():
    env = gym.make("tacsuite/ProcMaze-v0", grid_size=4, render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (48, 48, 3) and img.dtype == np.uint8
