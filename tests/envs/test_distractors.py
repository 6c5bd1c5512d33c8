"""Distractor dimensions: the paper's map, bounded, chaotic, unseen by reward and dynamics."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from tacsuite.envs.wrappers import BOUND, Distractors, DistractorWrapper


def _play(env, seed: int, actions):
    obs, _ = env.reset(seed=seed)
    out = [(obs, 0.0, False)]
    for a in actions:
        obs, r, term, trunc, _ = env.step(a)
        out.append((obs, r, term))
    return out


def test_map_is_the_papers_formula_bounded_and_resetting():
    dist = Distractors(6, seed=3)
    d = dist.start(np.random.default_rng(0))
    resets = 0
    for _ in range(300):
        raw = dist.L @ d + 0.1 * np.sin(dist.P @ d)
        nxt = dist.step(d)
        far = np.abs(raw) > BOUND
        np.testing.assert_allclose(nxt[~far], raw[~far], rtol=1e-12)
        np.testing.assert_array_equal(nxt[far], dist.reset_to[far])
        resets += int(far.sum())
        d = nxt
        assert np.all(np.abs(d) <= BOUND)
    assert resets > 50, "the map should hit the bound and reset often (chaotic regime)"
    assert np.all(dist.P >= 0)


def test_nearby_starts_diverge():
    dist = Distractors(5, seed=0)
    a = dist.start(np.random.default_rng(1))
    b = a + 1e-9
    gaps = []
    for _ in range(60):
        a, b = dist.step(a), dist.step(b)
        gaps.append(np.abs(a - b).max())
    assert max(gaps) > 1.0, "a 1e-9 perturbation should grow to order one"


def test_wrapper_never_touches_reward_or_dynamics():
    actions = [np.array([a], np.float32) for a in np.random.default_rng(0).uniform(-2, 2, 50)]
    plain = _play(gym.make("Pendulum-v1"), 4, actions)
    wrapped_env = DistractorWrapper(gym.make("Pendulum-v1"), n_dims=7, seed=2)
    assert wrapped_env.observation_space.shape == (10,)
    wrapped = _play(wrapped_env, 4, actions)
    for (o1, r1, t1), (o2, r2, t2) in zip(plain, wrapped, strict=True):
        np.testing.assert_allclose(o2[:3], o1, rtol=0, atol=0)
        assert r1 == r2 and t1 == t2
        assert o2 in wrapped_env.observation_space
    again = _play(DistractorWrapper(gym.make("Pendulum-v1"), n_dims=7, seed=2), 4, actions)
    np.testing.assert_array_equal(np.stack([o for o, *_ in again]),
                                  np.stack([o for o, *_ in wrapped]))
    other = _play(DistractorWrapper(gym.make("Pendulum-v1"), n_dims=7, seed=2), 5, actions)
    assert not np.allclose(other[0][0][3:], wrapped[0][0][3:])


def test_registered_env_is_pendulum_with_distractors():
    actions = [np.array([a], np.float32) for a in np.random.default_rng(1).uniform(-1, 1, 40)]
    plain = _play(gym.make("Pendulum-v1"), 9, [2 * a for a in actions])
    env = gym.make("tacsuite/PendulumDistractor-v0", distractors=4)
    assert env.observation_space.shape == (7,)
    ours = _play(env, 9, actions)
    for (o1, r1, _), (o2, r2, _) in zip(plain, ours, strict=True):
        np.testing.assert_allclose(o2[:3], o1, atol=1e-6)
        assert r2 == pytest.approx(r1, abs=1e-5)
    assert gym.make("tacsuite/PendulumDistractor-v0").observation_space.shape == (13,)
    assert gym.make("tacsuite/PendulumDistractor-v0", distractors=0).observation_space.shape \
        == (3,)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="1-D Box"):
        DistractorWrapper(gym.make("FrozenLake-v1"), n_dims=3)
    with pytest.raises(ValueError, match="n_dims"):
        DistractorWrapper(gym.make("Pendulum-v1"), n_dims=-1)
    with pytest.raises(ValueError, match="distractors"):
        gym.make("tacsuite/PendulumDistractor-v0", distractors=-2)


def test_hopper_with_distractors_is_hopper_v5():
    pytest.importorskip("mujoco")
    pytest.importorskip("imageio")
    rng = np.random.default_rng(2)
    actions = [rng.uniform(-0.3, 0.3, 3).astype(np.float32) for _ in range(15)]
    plain = _play(gym.make("Hopper-v5"), 3, actions)
    ours = _play(gym.make("tacsuite/HopperDistractor-v0", distractors=5), 3, actions)
    for (o1, r1, t1), (o2, r2, t2) in zip(plain, ours, strict=True):
        np.testing.assert_allclose(o2[:11], o1, rtol=1e-6, atol=1e-6)
        assert r2 == pytest.approx(r1, rel=1e-6) and t1 == t2
        assert o2.shape == (16,)
