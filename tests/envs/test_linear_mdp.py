import gymnasium as gym
import numpy as np
import pytest

from tacsuite.envs.linear_mdp import FAIL, GOAL, action_vectors, linear_mdp_model


def test_action_encoding_and_goal_probabilities():
    a = action_vectors()
    assert a.shape == (16, 4)
    assert np.array_equal(a[0], -np.ones(4)) and np.array_equal(a[15], np.ones(4))
    assert np.array_equal(a[1], [1, -1, -1, -1])  # bit 0 set -> a_1 = +1
    model = linear_mdp_model()
    p = model.phi[0, :, 3]
    assert p.min() == pytest.approx(0.1) and p.max() == pytest.approx(0.5)


@pytest.mark.parametrize("q", [0.0, 0.6])
def test_transition_table_matches_the_specification(q):
    env = gym.make("tacsuite/SimulatedLinearMDP-v0", q=q).unwrapped
    P = env.P_h
    for j in range(16):
        p = 0.3 + 0.05 * action_vectors()[j].sum()
        if q == 0:
            assert P[0, 0, j, 1] == pytest.approx(0.999 * (1 - p))
            assert P[0, 0, j, FAIL] == pytest.approx(0.001 * (1 - p))
            assert P[0, 0, j, GOAL] == pytest.approx(p)
        else:
            # The shifted step 1: x2 w.p. exactly 1 - p.
            assert P[0, 0, j, 1] == pytest.approx(1 - p)
            assert P[0, 0, j, FAIL] == pytest.approx(q * p)
            assert P[0, 0, j, GOAL] == pytest.approx((1 - q) * p)
        assert P[1, 1, j, 2] == pytest.approx(0.999 * (1 - p))
        assert P[1, 1, j, GOAL] == pytest.approx(p)
        assert env.R_h[0, 0, j] == 0.0 and env.R_h[1, 1, j] == pytest.approx(p)
    assert np.all(P[1:, FAIL, :, FAIL] == 1.0) and np.all(P[1:, GOAL, :, GOAL] == 1.0)
    assert np.array_equal(env.P[0], P[0, 0]) and np.array_equal(env.P[1], P[1, 1])


def test_rollouts_follow_the_model_and_truncate_after_three_steps():
    env = gym.make("tacsuite/SimulatedLinearMDP-v0", q=0.5)
    counts = np.zeros(5)
    total = 0.0
    n = 4000
    for ep in range(n):
        s, info = env.reset(seed=ep)
        assert info["features"].shape == (16, 4) and info["step"] == 0
        s, r, term, trunc, info = env.step(15)
        counts[s] += 1
        total += r
        for _ in range(2):
            s, r, term, trunc, info = env.step(15)
            total += r
        assert trunc and not term
        assert np.allclose(info["features"].sum(1), 1.0)
    # Action 15 has p = 0.5: goal w.p. 0.25, fail w.p. 0.25 at q = 0.5.
    assert counts[GOAL] / n == pytest.approx(0.25, abs=0.03)
    assert counts[FAIL] / n == pytest.approx(0.25, abs=0.03)


def test_bad_arguments_raise():
    for kwargs in ({"q": 1.5}, {"q": -0.1}, {"delta": 0.9}, {"xi_norm": float("nan")}):
        with pytest.raises(ValueError):
            gym.make("tacsuite/SimulatedLinearMDP-v0", **kwargs)
