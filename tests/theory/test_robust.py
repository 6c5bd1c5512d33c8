"""Exact robust DP: duals against the primal convex programs, limits, the q = rho identity."""

import numpy as np
import pytest

from tacsuite.envs.linear_mdp import linear_mdp_model
from tacsuite.theory.robust import (
    DIVERGENCES,
    DRectModel,
    finite_horizon_values,
    robust_policy_evaluation,
    robust_value_iteration,
    softmax_policy,
    tv_worst_case_model,
    worst_case,
    worst_case_primal,
)


def _instances(n_cases: int, seed: int):
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        n = int(rng.integers(2, 7))
        mu0 = rng.dirichlet(np.ones(n))
        if k % 3 == 0:  # a state outside the support, with the smallest value
            mu0[np.argmin(mu0)] = 0.0
            mu0 /= mu0.sum()
        yield mu0, rng.uniform(0, 3, n), float(rng.uniform(0.02, 1.2))


@pytest.mark.parametrize("divergence", DIVERGENCES)
@pytest.mark.parametrize("penalised", [False, True])
def test_dual_formula_equals_the_primal_convex_program(divergence, penalised):
    for mu0, v, radius in _instances(12, seed=hash((divergence, penalised)) % 1000):
        dual = worst_case(mu0[None], v, radius, divergence, penalised)[0]
        primal, mu = worst_case_primal(mu0, v, radius, divergence, penalised)
        assert dual == pytest.approx(primal, abs=1e-6), (mu0, v, radius)
        assert dual <= mu0 @ v + 1e-9  # the nominal distribution is always admissible


def test_tv_worst_case_moves_mass_to_the_lowest_value():
    mu0 = np.array([0.5, 0.5, 0.0])
    v = np.array([2.0, 1.0, 0.0])
    # Radius 0.3: move 0.3 from the best state to the worst (possibly unsupported) one.
    assert worst_case(mu0[None], v, 0.3, "tv")[0] == pytest.approx(0.2 * 2 + 0.5 * 1)
    primal, mu = worst_case_primal(mu0, v, 0.3, "tv")
    assert np.allclose(mu, [0.2, 0.5, 0.3], atol=1e-9)


def _random_model(seed: int, S=4, A=3, d=3, H=3) -> DRectModel:
    rng = np.random.default_rng(seed)
    phi = rng.dirichlet(np.ones(d), size=(S, A))
    mu = rng.dirichlet(np.ones(S), size=(H, d))
    theta = rng.uniform(0, 1, (H, d))
    return DRectModel(phi=phi, mu=mu, theta=theta, initial=np.eye(S)[0])


def test_radius_zero_is_plain_dynamic_programming():
    m = _random_model(0)
    V, _ = finite_horizon_values(m.transitions(), m.rewards())
    for div in DIVERGENCES:
        sol = robust_value_iteration(m, rho=0.0, divergence=div)
        assert np.allclose(sol.V, V)


def test_robust_value_is_below_every_member_of_the_uncertainty_set():
    m = _random_model(1)
    rho = 0.2
    rng = np.random.default_rng(1)
    pi = rng.dirichlet(np.ones(3), size=(3, 4))
    robust = robust_policy_evaluation(m, pi, rho=rho).V[0]
    for _ in range(30):
        # Mix each factor toward a random distribution inside its TV ball.
        target = rng.dirichlet(np.ones(4), size=m.mu.shape[:2])
        mu = (1 - rho) * m.mu + rho * target
        member = DRectModel(m.phi, mu, m.theta, m.initial)
        V, _ = finite_horizon_values(member.transitions(), member.rewards(), pi)
        assert np.all(V[0] >= robust - 1e-12)


def test_kl_regularised_optimum_is_the_softmax_and_beta_to_zero_gives_the_max():
    m = _random_model(2)
    hard = robust_value_iteration(m, rho=0.3, divergence="kl")
    for beta in (1.0, 0.1):
        soft = robust_value_iteration(m, rho=0.3, divergence="kl", beta=beta)
        # The softmax policy attains the regularised optimum ...
        ev = robust_policy_evaluation(m, soft.policy, rho=0.3, divergence="kl", beta=beta)
        assert np.allclose(ev.V, soft.V, atol=1e-9)
        # ... and no other policy beats it.
        other = robust_policy_evaluation(m, hard.policy * 0.9 + 0.1 / 3, rho=0.3,
                                         divergence="kl", beta=beta)
        assert np.all(other.V[0] <= soft.V[0] + 1e-12)
    soft = robust_value_iteration(m, rho=0.3, divergence="kl", beta=1e-4)
    assert np.allclose(soft.V, hard.V, atol=3 * 1e-4 * np.log(3))
    assert np.array_equal(soft.policy.argmax(-1), hard.policy.argmax(-1))
    pol, val = softmax_policy(np.array([[1.0, 2.0]]), 0.0, np.full((1, 2), 0.5))
    assert np.array_equal(pol, [[0.0, 1.0]]) and val[0] == 2.0


def _testbed_rho(rho: float) -> np.ndarray:
    r = np.zeros((3, 4))
    r[0, 3] = rho  # the factor the shift acts on: factor 4 at step 1
    return r


@pytest.mark.parametrize("rho", [0.0, 0.2, 0.376, 0.5, 0.8, 1.0])
def test_robust_value_at_radius_rho_is_the_value_in_the_q_equals_rho_environment(rho):
    nominal = linear_mdp_model(0.0)
    robust = robust_value_iteration(nominal, rho=_testbed_rho(rho), divergence="tv")
    # Exactly, against the model that shifts factor 4 only (keeping the 0.001 leak) ...
    shifted = linear_mdp_model(rho, step1_leak=0.001)
    V, pol = finite_horizon_values(shifted.transitions(), shifted.rewards())
    assert robust.value(nominal.initial) == pytest.approx(V[0, 0], abs=1e-12)
    assert np.array_equal(robust.policy[0, 0], pol[0, 0])
    rng = np.random.default_rng(int(rho * 1000))
    for _ in range(5):
        pi = rng.dirichlet(np.ones(16), size=(3, 5))
        ev = robust_policy_evaluation(nominal, pi, rho=_testbed_rho(rho))
        Vq, _ = finite_horizon_values(shifted.transitions(), shifted.rewards(), pi)
        assert ev.V[0, 0] == pytest.approx(Vq[0, 0], abs=1e-12)
        # ... and up to the 0.001 leak against the environment's own q = rho dynamics.
        env_model = linear_mdp_model(rho)
        Ve, _ = finite_horizon_values(env_model.transitions(), env_model.rewards(), pi)
        assert abs(ev.V[0, 0] - Ve[0, 0]) <= (0.0015 if rho > 0 else 1e-12)


def test_the_robust_policy_switches_at_the_analytic_point():
    # V_2(x2) = 1 + 0.5 * 0.999 * 0.5; the step-1 value is linear in p with slope
    # 2 (1 - rho) - 0.999 V_2(x2), which changes sign at rho*.
    v2 = 1.0 + 0.5 * 0.999 * 0.5
    switch = 1.0 - 0.999 * v2 / 2.0
    nominal = linear_mdp_model(0.0)
    below = robust_value_iteration(nominal, rho=_testbed_rho(switch - 1e-3))
    above = robust_value_iteration(nominal, rho=_testbed_rho(switch + 1e-3))
    assert below.policy[0, 0].argmax() == 15   # p = 0.5: jump for the goal
    assert above.policy[0, 0].argmax() == 0    # p = 0.1: take the safe path


def test_rollouts_in_the_worst_case_kernel_match_the_robust_value():
    m = _random_model(7, S=5, A=3, d=3, H=3)
    rng = np.random.default_rng(7)
    pi = rng.dirichlet(np.ones(3), size=(3, 5))
    rho = 0.25
    robust = robust_policy_evaluation(m, pi, rho=rho).value(m.initial)
    worst = tv_worst_case_model(m, pi, rho)
    # Inside the uncertainty set ...
    assert np.all(0.5 * np.abs(worst.mu - m.mu).sum(-1) <= rho + 1e-12)
    # ... exactly attaining the robust value ...
    V, _ = finite_horizon_values(worst.transitions(), worst.rewards(), pi)
    assert V[0] @ m.initial == pytest.approx(robust, abs=1e-12)
    # ... and Monte-Carlo roll-outs in that kernel agree within their confidence interval.
    P, R = worst.transitions(), worst.rewards()
    n = 20000
    s = np.zeros(n, dtype=int)
    total = np.zeros(n)
    for h in range(3):
        a = (rng.random(n)[:, None] > np.cumsum(pi[h, s], axis=1)).sum(1).clip(0, 2)
        total += R[h, s, a]
        s = (rng.random(n)[:, None] > np.cumsum(P[h, s, a], axis=1)).sum(1).clip(0, 4)
    assert abs(total.mean() - robust) < 4 * total.std() / np.sqrt(n)
