"""GridStitch-v0: walls, sparse reward, and a dataset whose best route must be stitched."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs import grid_stitch as gs
from tacsuite.envs.raster import DARK, GREEN, RED


def scripted_return(route, noise: float = 0.0, seed: int = 0) -> tuple[float, np.ndarray]:
    env = gym.make("tacsuite/GridStitch-v0", start_noise=0.0)
    obs, _ = env.reset(seed=seed)
    policy = gs.WaypointPolicy(route, np.random.default_rng(seed), noise=noise)
    total, path = 0.0, [obs]
    while True:
        obs, r, term, trunc, _ = env.step(policy(obs))
        total += r
        path.append(obs)
        if term or trunc:
            return total, np.array(path)


def test_walls_block_per_axis_and_keep_clearance():
    env = gym.make("tacsuite/GridStitch-v0", start_noise=0.0)
    env.reset(seed=0)
    for _ in range(10):  # north of the start cell is wall
        obs, *_ = env.step(np.array([0.0, -1.0], np.float32))
    assert obs[1] == pytest.approx(1.25)  # 1.0 would come within 0.15 of the wall row
    path = [env.step(np.array([1.0, 1.0], np.float32))[0] for _ in range(10)]
    # diagonal: x is blocked by the wall east of the start cell while y keeps moving
    assert path[1][0] == pytest.approx(2.75) and path[1][1] == pytest.approx(1.75)
    # ... until the point is in the bottom corridor, whose floor then stops y
    assert path[-1][0] == pytest.approx(4.25) and path[-1][1] == pytest.approx(2.75)


def test_reward_is_goal_radius_indicator():
    goal = gs.cell_center(gs.GOAL_CELL)
    assert gs.goal_reward(goal, goal) == 1.0
    assert gs.goal_reward(goal + [0.49, 0.0], goal) == 1.0
    assert gs.goal_reward(goal + [0.5, 0.0], goal) == 0.0


def test_route_returns_order_optimal_detour_short():
    optimal, _ = scripted_return(gs.OPTIMAL_ROUTE)
    detour, _ = scripted_return(gs.DETOUR_ROUTE)
    short, path = scripted_return(gs.SHORT_ROUTE)
    assert optimal >= 29 and 20 <= detour <= 24 and short == 0.0
    assert np.allclose(path[-1], gs.cell_center(gs.MID_CELL), atol=0.05)


def test_dataset_never_contains_the_optimal_route():
    from tacsuite.envs.datasets import collect, grid_stitch_mixed_factory

    eps = collect("tacsuite/GridStitch-v0", grid_stitch_mixed_factory, 40, seed=3)
    returns = np.array([e["rewards"].sum() for e in eps])
    assert returns[0::2].max() == 0.0  # start -> midpoint never scores
    assert returns[1::2].min() >= 18 and returns.max() <= 24
    optimal, _ = scripted_return(gs.OPTIMAL_ROUTE)
    assert optimal - returns.max() >= 5
    for e in eps[1::2]:  # every scoring episode passes through the left column first
        assert (e["observations"][:, 0] < 2.0).any()


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="start_noise"):
        gs.GridStitchEnv(start_noise=1.0)
    with pytest.raises(ValueError, match="route"):
        gs.WaypointPolicy((), np.random.default_rng(0))


def test_render_rgb_array():
    env = gym.make("tacsuite/GridStitch-v0", render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (4 * 40, 6 * 40, 3) and img.dtype == np.uint8
    px, py = (env.unwrapped._pos * 40).astype(int)
    assert tuple(img[py, px]) == RED  # the point is drawn where it is
    gx, gy = (env.unwrapped.goal * 40).astype(int)
    assert tuple(img[gy, gx]) == GREEN
    assert tuple(img[5, 5]) == DARK  # the outer wall
