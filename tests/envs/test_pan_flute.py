"""PanFlute-v0: shift registers; the reward is reachable exactly by the timed order."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs import pan_flute as pf


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_reward_iff_the_previous_n_actions_were_the_timed_order(n):
    """Every action sequence of length n + 3 at once: the reward at step t is 1 exactly
    when actions t-n .. t-1 were n-1, n-2, ..., 0."""
    dyn = pf.PanFluteDynamics(n, 0.0)
    order = tuple(range(n - 1, -1, -1))
    seqs = np.array(list(itertools.product(range(n), repeat=n + 3)))
    rng = np.random.default_rng(0)
    obs = dyn.reset(rng, len(seqs))
    for t in range(seqs.shape[1]):
        obs, r, term = dyn.step(obs, seqs[:, t], rng)
        expect = np.array([t >= n and tuple(s[t - n:t]) == order for s in seqs])
        assert np.array_equal(r == 1.0, expect) and not term.any()
        assert set(np.unique(r)) <= {0.0, 1.0}


def test_registers_shift_toward_the_tail_and_heads_hold_the_action():
    env = gym.make("tacsuite/PanFlute-v0", num_pipes=4, spontaneous=False).unwrapped
    env.reset(seed=0)
    plays = [3, 1, 1, 0, 2]
    for a in plays:
        env.step(a)
    for i, bits in enumerate(env.pipes):
        assert len(bits) == i + 1
        expect = [int(p == i) for p in plays[::-1][: i + 1]]  # head = latest play
        assert bits.tolist() == expect


def test_repeating_the_order_earns_one_in_n_and_is_the_best_periodic_play():
    n = 3
    env = gym.make("tacsuite/PanFlute-v0", num_pipes=n, spontaneous=False).unwrapped
    order = env.unwrapped.rewarding_order
    assert order == (2, 1, 0)
    env.reset(seed=0)
    rewards = [env.step(order[t % n])[1] for t in range(300)]
    assert np.mean(rewards[n:]) == pytest.approx(1 / n, abs=1e-9)
    # no periodic play of period <= 6 does better
    dyn, rng = pf.PanFluteDynamics(n, 0.0), np.random.default_rng(0)
    best = 0.0
    for period in range(1, 7):
        cycles = np.array(list(itertools.product(range(n), repeat=period)))
        obs = dyn.reset(rng, len(cycles))
        total = np.zeros(len(cycles))
        for t in range(60):
            obs, r, _ = dyn.step(obs, cycles[:, t % period], rng)
            total += r * (t >= 30)
        best = max(best, total.max() / 30)
    assert best == pytest.approx(1 / n)


def test_spontaneous_rate_is_one_over_n_squared():
    # always playing pipe 0 never lines the other tails up: every reward is spontaneous
    env = gym.make("tacsuite/PanFlute-v0", num_pipes=3).unwrapped
    env.reset(seed=0)
    rewards = [env.step(0)[1] for _ in range(9000)]
    assert np.mean(rewards) == pytest.approx(1 / 9, rel=0.1)


def test_bad_arguments_are_rejected():
    for kwargs in ({"num_pipes": 0}, {"num_pipes": 3.0}, {"spontaneous": None}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            pf.PanFluteEnv(**kwargs)
