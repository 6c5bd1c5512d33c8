"""ButtonGrid-v0: stepping onto a button toggles it; all on pays 1 the step after."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs import button_grid as bg

STAY, UP, LEFT, DOWN, RIGHT = range(5)


def layout(g: int, player: tuple[int, int], off=(), on=()) -> np.ndarray:
    obs = np.zeros((g, g, bg.CHANNELS), np.float32)
    obs[player + (bg.PLAYER,)] = 1
    for cell in off:
        obs[cell + (bg.OFF,)] = 1
    for cell in on:
        obs[cell + (bg.ON,)] = 1
    return obs.reshape(1, -1)


def play(dyn, obs, actions, rng):
    rewards = []
    for a in actions:
        obs, r, term = dyn.step(obs, np.array([a]), rng)
        assert not term[0]
        rewards.append(float(r[0]))
    return obs, rewards


def buttons(obs, g):
    grid = obs[0].reshape(g, g, bg.CHANNELS)
    return grid[:, :, bg.ON].astype(int), grid[:, :, bg.OFF].astype(int)


def test_moving_onto_a_button_toggles_it_staying_and_bumping_do_not():
    dyn, rng = bg.ButtonGridDynamics(3, 2, 0.0), np.random.default_rng(0)
    obs = layout(3, (0, 0), off=[(0, 1), (2, 2)])
    obs, rew = play(dyn, obs, [RIGHT], rng)
    on, off = buttons(obs, 3)
    assert on[0, 1] == 1 and off[0, 1] == 0 and off[2, 2] == 1 and rew == [0.0]
    obs, _ = play(dyn, obs, [STAY, UP], rng)  # no move, no toggle (UP bumps into the edge)
    assert buttons(obs, 3)[0][0, 1] == 1
    obs, _ = play(dyn, obs, [LEFT, RIGHT], rng)  # off and back on: toggled off again
    on, off = buttons(obs, 3)
    assert on[0, 1] == 0 and off[0, 1] == 1


def test_reward_comes_the_step_after_all_buttons_are_on_then_a_new_layout():
    dyn, rng = bg.ButtonGridDynamics(3, 2, 0.0), np.random.default_rng(1)
    obs = layout(3, (0, 0), off=[(0, 1)], on=[(1, 1)])
    obs, rew = play(dyn, obs, [RIGHT], rng)
    assert rew == [0.0] and buttons(obs, 3)[1].sum() == 0  # all on now, not yet paid
    obs, rew = play(dyn, obs, [DOWN], rng)  # DOWN would toggle (1, 1): the deal wins
    on, off = buttons(obs, 3)
    assert rew == [1.0] and on.sum() == 0 and off.sum() == 2
    assert obs[0].reshape(3, 3, bg.CHANNELS)[:, :, bg.PLAYER].sum() == 1


def test_layouts_have_distinct_buttons_all_off_and_one_player():
    env = gym.make("tacsuite/ButtonGrid-v0", grid_size=4, num_buttons=5).unwrapped
    for seed in range(30):
        env.reset(seed=seed)
        cells = env.button_cells
        assert len(set(cells)) == 5 and not env.button_on.any()
        assert 0 <= min(env.position) and max(env.position) < 4


def test_spontaneous_activation_rate():
    # standing still nothing toggles: a reward needs the spontaneous switch-on, then pays
    # on the next step, so the reward rate is p / (1 + p) with p = 1 / (10 g^2)
    env = gym.make("tacsuite/ButtonGrid-v0", grid_size=2, num_buttons=2).unwrapped
    env.reset(seed=0)
    rewards = [env.step(STAY)[1] for _ in range(20_000)]
    p = 1 / 40
    assert np.mean(rewards) == pytest.approx(p / (1 + p), rel=0.15)


def test_batched_dynamics_match_one_by_one():
    dyn = bg.ButtonGridDynamics(4, 3, 0.0)
    rng = np.random.default_rng(0)
    obs = dyn.reset(rng, 32)
    for _ in range(10):
        actions = rng.integers(0, 5, 32)
        singles = [dyn.step(obs[i:i + 1], actions[i:i + 1], rng) for i in range(32)]
        nxt, r, _ = dyn.step(obs, actions, rng)
        for i, (n1, r1, _) in enumerate(singles):
            assert r1[0] == r[i]
            if r[i] == 0:  # a paid step deals a random layout
                assert np.array_equal(n1[0], nxt[i])
        obs = nxt


def test_bad_arguments_are_rejected():
    for kwargs in ({"grid_size": 1}, {"num_buttons": 0}, {"grid_size": 2, "num_buttons": 5},
                   {"spontaneous": "yes"}):
        with pytest.raises(ValueError, match=list(kwargs)[-1]):
            bg.ButtonGridEnv(**kwargs)
