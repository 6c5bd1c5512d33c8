"""The planners of the average-reward learners against exact solutions."""

import numpy as np
import pytest
from scipy.optimize import linprog

from tacsuite.agents.common.amdp_planning import (
    extended_value_iteration,
    l1_optimistic_values,
    relative_value_iteration,
    value_targeted_evi,
)
from tacsuite.envs.garnet import garnet_model
from tacsuite.envs.river_swim import river_swim_model
from tacsuite.theory.average_reward import optimal_gain, policy_gain


def test_l1_inner_maximum_matches_a_linear_program():
    rng = np.random.default_rng(0)
    S = 7
    p_hat = rng.dirichlet(np.ones(S), size=(3, 2))
    width = rng.uniform(0, 1.5, size=(3, 2))
    v = rng.normal(size=S)
    got = l1_optimistic_values(p_hat, width, v)
    for i in range(3):
        for j in range(2):
            # max v.p s.t. sum p = 1, p >= 0, sum |p - p_hat| <= w, via p = p_hat + x - y.
            c = np.concatenate([-v, v])
            A_ub = np.ones((1, 2 * S))
            A_eq = np.concatenate([np.ones(S), -np.ones(S)])[None]
            bounds = [(0, None)] * S + [(0, p) for p in p_hat[i, j]]
            res = linprog(c, A_ub=A_ub, b_ub=[width[i, j]], A_eq=A_eq, b_eq=[0],
                          bounds=bounds, method="highs")
            assert got[i, j] == pytest.approx(p_hat[i, j] @ v - res.fun, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_relative_value_iteration_finds_the_optimal_gain(seed):
    P, R = garnet_model(12, 3, 4, seed)
    plan = relative_value_iteration(P, R, eps=1e-9)
    assert plan.gain == pytest.approx(optimal_gain(P, R).gain, abs=1e-8)
    assert policy_gain(P, R, plan.policy)[0][0] == pytest.approx(plan.gain, abs=1e-8)


def test_optimistic_planners_bound_the_true_gain_and_shrink_to_it():
    P, R = river_swim_model(6)
    J = optimal_gain(P, R).gain
    gains = []
    for n in (2.0, 30.0, 1e3, 1e5):
        counts = np.full(R.shape, n)
        vt = value_targeted_evi(P, counts, R, log_term=3.0, eps=1e-8)
        evi = extended_value_iteration(P, R, np.full(R.shape, 1 / np.sqrt(n)), eps=1e-8)
        assert vt.gain >= J - 1e-7 and evi.gain >= J - 1e-7
        gains.append(vt.gain)
    assert all(a >= b - 1e-6 for a, b in zip(gains, gains[1:], strict=False))
    assert gains[0] > gains[-1] + 0.1
    huge = value_targeted_evi(P, np.full(R.shape, 1e14), R, log_term=3.0, eps=1e-10)
    assert huge.gain == pytest.approx(J, abs=1e-6)
    assert list(huge.policy) == [1] * 6
