"""The continuing environments of the average-reward suite: models, restarts, features."""

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs.continuing_toy_text import ContinuingFrozenLakeEnv, ContinuingTaxiEnv
from tacsuite.envs.garnet import garnet_model
from tacsuite.envs.linear_amdp import linear_amdp_model

NEW_IDS = ["tacsuite/RandomAMDP-v0", "tacsuite/LinearAMDP-v0",
           "tacsuite/ContinuingFrozenLake-v0", "tacsuite/ContinuingTaxi-v0"]


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_registered_continuing_and_exposes_model(env_id):
    env = gym.make(env_id, max_episode_steps=300)
    u = env.unwrapped
    S, A = env.observation_space.n, env.action_space.n
    assert u.P.shape == (S, A, S) and u.R.shape == (S, A)
    np.testing.assert_allclose(u.P.sum(2), 1.0, atol=1e-12)
    lo, hi = u.reward_bounds
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(300):
        _, r, term, trunc, _ = env.step(env.action_space.sample())
        assert term is False and lo <= r <= hi
    assert trunc is True  # only the TimeLimit ends it
    env.close()


def _reachable_from_all(P: np.ndarray) -> bool:
    adj = (P.sum(1) > 0).astype(int)
    reach = np.eye(len(adj), dtype=int) | adj
    for _ in range(len(adj)):
        reach = ((reach @ reach) > 0).astype(int)
    return bool(reach.all())


@pytest.mark.parametrize("S,A,b,seed", [(10, 3, 1, 0), (10, 3, 3, 1), (50, 5, 5, 2), (7, 2, 7, 3)])
def test_garnet_branching_rewards_and_communicating(S, A, b, seed):
    P, R = garnet_model(S, A, b, seed)
    assert np.all((P > 0).sum(2) == b)
    assert all(P[s, 0, (s + 1) % S] > 0 for s in range(S))
    assert R.min() >= 0 and R.max() <= 1
    assert _reachable_from_all(P)
    P2, R2 = garnet_model(S, A, b, seed)
    np.testing.assert_array_equal(P, P2)
    assert not np.array_equal(R, garnet_model(S, A, b, seed + 1)[1])


@pytest.mark.parametrize("kwargs,match", [
    ({"n_states": 1}, "n_states"), ({"branching": 11}, "branching"),
    ({"n_actions": 0}, "n_actions"), ({"instance_seed": -1}, "instance_seed"),
    ({"n_states": 3.5}, "n_states")])
def test_garnet_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make("tacsuite/RandomAMDP-v0", **kwargs)


def test_linear_amdp_factorisation_and_features():
    m = linear_amdp_model(12, 3, 4, instance_seed=5)
    np.testing.assert_allclose(m.phi.sum(2), 1.0)
    np.testing.assert_allclose(m.mu.sum(1), 1.0)
    assert np.all(m.P > 0)  # ergodic: every row has full support
    env = gym.make("tacsuite/LinearAMDP-v0", n_states=12, n_actions=3, d=4, instance_seed=5)
    u = env.unwrapped
    np.testing.assert_allclose(u.P, np.einsum("sai,it->sat", m.phi, m.mu))
    np.testing.assert_allclose(u.R, m.phi @ m.theta)
    s, info = env.reset(seed=3)
    for _ in range(50):
        np.testing.assert_array_equal(info["features"], u.phi[int(s)])
        assert info["features"].shape == (3, 4)
        s, r, *_, info = env.step(1)
    with pytest.raises(ValueError, match="d"):
        gym.make("tacsuite/LinearAMDP-v0", n_states=3, d=4)


def test_linear_amdp_empirical_transitions_match_P():
    env = gym.make("tacsuite/LinearAMDP-v0", n_states=6, n_actions=2, d=3, max_episode_steps=-1)
    u = env.unwrapped
    env.reset(seed=0)
    counts = np.zeros(6)
    for _ in range(20_000):
        u.state = 2
        s, *_ = env.step(1)
        counts[s] += 1
    np.testing.assert_allclose(counts / counts.sum(), u.P[2, 1], atol=0.012)


def test_frozen_lake_goal_restarts_at_the_start_with_reward_one():
    env = ContinuingFrozenLakeEnv(is_slippery=False)
    # 4x4 map: state 14 is left of the goal (15); moving right (2) reaches it.
    assert env.P[14, 2, 0] == 1.0 and env.R[14, 2] == 1.0
    env.reset(seed=0)
    env.state = 14
    s, r, term, trunc, info = env.step(2)
    assert (int(s), r, term, info["restarted"]) == (0, 1.0, False, True)
    # Falling in the hole at 5 (down from 1) restarts with reward 0.
    env.state = 1
    s, r, term, _, info = env.step(1)
    assert (int(s), r, term, info["restarted"]) == (0, 0.0, False, True)


def test_slippery_frozen_lake_sampled_rewards_average_to_R():
    env = ContinuingFrozenLakeEnv()
    env.reset(seed=1)
    total = 0.0
    for _ in range(6000):
        env.state = 14
        total += env.step(2)[1]
    assert env.R[14, 2] == pytest.approx(1 / 3)
    assert total / 6000 == pytest.approx(1 / 3, abs=0.02)
    with pytest.raises(ValueError, match="map_name"):
        ContinuingFrozenLakeEnv(map_name="3x3")


def test_taxi_drop_off_starts_a_new_ride():
    env = ContinuingTaxiEnv()
    drop = np.argwhere(env.R == 20.0)
    assert len(drop) > 0
    s, a = drop[0]
    start = env.initial > 0
    assert start.sum() == 300
    np.testing.assert_allclose(env.P[s, a][start], 1 / 300)
    env.reset(seed=0)
    env.state = int(s)
    s2, r, term, _, info = env.step(int(a))
    assert r == 20.0 and term is False and info["restarted"] and start[int(s2)]
    assert env.reward_bounds == (-10.0, 20.0) and env.R.min() == -10.0
