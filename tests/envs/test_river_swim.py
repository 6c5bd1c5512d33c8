import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs.river_swim import river_swim_model


def test_model_matches_the_specification():
    P, R = river_swim_model(6)
    assert P.shape == (6, 2, 6) and R.shape == (6, 2)
    np.testing.assert_allclose(P.sum(2), 1.0)
    assert P[3, 0, 2] == 1.0 and P[0, 0, 0] == 1.0
    assert (P[2, 1, 3], P[2, 1, 2], P[2, 1, 1]) == (0.35, 0.6, 0.05)
    assert (P[0, 1, 0], P[0, 1, 1]) == (0.6, 0.4)
    assert (P[5, 1, 5], P[5, 1, 4]) == (0.6, 0.4)
    assert R[0, 0] == 0.005 and R[5, 1] == 1.0 and R.sum() == pytest.approx(1.005)


def test_empirical_transitions_match_P():
    env = gym.make("tacsuite/RiverSwim-v0", max_episode_steps=-1)
    P = env.unwrapped.P
    env.reset(seed=0)
    counts = np.zeros(6)
    for _ in range(20_000):
        env.unwrapped.state = 2
        s, r, term, trunc, _ = env.step(1)
        assert not term and not trunc
        counts[s] += 1
    np.testing.assert_allclose(counts / counts.sum(), P[2, 1], atol=0.01)


def test_never_terminates_and_truncates_at_limit():
    env = gym.make("tacsuite/RiverSwim-v0", max_episode_steps=50)
    env.reset(seed=1)
    for _ in range(50):
        _, _, term, trunc, _ = env.step(1)
        assert term is False
    assert trunc is True


def test_bad_n_states():
    with pytest.raises(ValueError, match="n_states"):
        gym.make("tacsuite/RiverSwim-v0", n_states=1)
