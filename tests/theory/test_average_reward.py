import numpy as np
import pytest

from tacsuite.envs.river_swim import river_swim_model
from tacsuite.theory.average_reward import optimal_gain, optimal_gain_lp, policy_gain


def random_mdp(rng, S=5, A=3):
    P = rng.random((S, A, S)) ** 3
    P /= P.sum(2, keepdims=True)
    return P, rng.random((S, A))


@pytest.mark.parametrize("seed", range(5))
def test_rvi_matches_lp_and_its_policy_achieves_it(seed):
    P, R = random_mdp(np.random.default_rng(seed))
    sol = optimal_gain(P, R)
    lp_gain, _ = optimal_gain_lp(P, R)
    assert sol.gain == pytest.approx(lp_gain, abs=1e-8)
    g, _ = policy_gain(P, R, sol.policy)
    np.testing.assert_allclose(g, lp_gain, atol=1e-8)


def test_policy_gain_against_long_run_simulation_free_power_method():
    P, R = random_mdp(np.random.default_rng(9))
    pi = np.full(R.shape, 1 / R.shape[1])
    g, h = policy_gain(P, R, pi)
    Ppi = np.einsum("sa,sat->st", pi, P)
    mu = np.linalg.matrix_power(Ppi, 2000)[0]
    assert g[0] == pytest.approx(mu @ (pi * R).sum(1), abs=1e-10)
    # Poisson equation holds.
    np.testing.assert_allclose(g + h, (pi * R).sum(1) + Ppi @ h, atol=1e-10)


def test_multichain_gain_differs_per_state():
    P = np.zeros((2, 1, 2))
    P[0, 0, 0] = P[1, 0, 1] = 1.0
    R = np.array([[1.0], [0.0]])
    g, _ = policy_gain(P, R, np.zeros(2, int))
    np.testing.assert_allclose(g, [1.0, 0.0], atol=1e-12)


def test_river_swim_optimum_is_always_right():
    P, R = river_swim_model(6)
    sol = optimal_gain(P, R)
    assert list(sol.policy) == [1] * 6
    assert sol.gain == pytest.approx(optimal_gain_lp(P, R)[0], abs=1e-9)
    assert policy_gain(P, R, np.zeros(6, int))[0][0] == pytest.approx(0.005)
