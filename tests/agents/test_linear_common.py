"""Shared linear-MDP pieces: incremental ridge statistics, TV breakpoints, bonuses."""

import numpy as np
import pytest

from tacsuite.agents.common.linear import RidgeStep, bonus, robust_estimate, tv_breakpoint
from tacsuite.theory.robust import tv_dual, worst_case


def test_sherman_morrison_ridge_matches_the_direct_solution():
    rng = np.random.default_rng(0)
    d, n, U, lam = 5, 400, 7, 0.1
    step = RidgeStep(d, lam)
    phis = rng.dirichlet(np.ones(d), size=n)
    rewards = rng.uniform(size=n)
    nxt = rng.integers(0, U, size=n)
    for phi, r, u in zip(phis, rewards, nxt, strict=True):
        step.add(phi, float(r), int(u))
    gram = lam * np.eye(d) + phis.T @ phis
    assert np.allclose(step.inv, np.linalg.inv(gram), atol=1e-10)
    y = rng.uniform(0, 2, size=U)
    direct = np.linalg.solve(gram, phis.T @ (rewards + y[nxt]))
    assert np.allclose(step.theta() + step.weights(U) @ y, direct, atol=1e-9)


def test_tv_breakpoint_equals_the_brute_force_dual_and_a_dense_grid():
    rng = np.random.default_rng(1)
    for _ in range(100):
        d, U = int(rng.integers(1, 5)), int(rng.integers(1, 9))
        xi = rng.normal(0.2, 0.5, size=(d, U))     # ridge weights: any sign
        y = rng.uniform(0, 3, size=U)
        if rng.random() < 0.3:
            y[rng.integers(U)] = y[0]               # ties
        rho = rng.uniform(0, 1.5, size=d)
        fast = tv_breakpoint(xi, y, rho, 0.0)
        assert np.allclose(fast, tv_dual(xi, y, rho, v_min=0.0), atol=1e-12)
        grid = np.linspace(0.0, y.max(), 20001)
        dense = (xi @ np.minimum(y[:, None], grid[None, :]) - rho[:, None] * grid).max(1)
        assert np.all(fast >= dense - 1e-12)
        assert np.all(fast <= dense + 3.0 * (np.abs(xi).sum(1) + rho) * grid[1])


def test_robust_estimate_radius_zero_is_plain_ridge_and_others_use_the_duals():
    rng = np.random.default_rng(2)
    xi = rng.dirichlet(np.ones(5), size=3)
    y = rng.uniform(0, 2, 5)
    for div in ("tv", "kl", "chi2"):
        assert np.allclose(robust_estimate(xi, y, np.zeros(3), div, False, 0.0), xi @ y)
        rho = np.array([0.0, 0.2, 0.5])
        est = robust_estimate(xi, y, rho, div, False, 0.0)
        assert est[0] == pytest.approx(xi[0] @ y)
        assert np.allclose(est[1:], worst_case(xi[1:], y, rho[1:], div, v_min=0.0))
        assert np.all(est[1:] < xi[1:] @ y)


def test_d_rectangular_bonus_dominates_the_elliptical_one():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4))
    inv = np.linalg.inv(a @ a.T + 0.5 * np.eye(4))
    feats = rng.dirichlet(np.ones(4), size=(6, 3))
    drect = bonus(feats, inv, "d-rect", 2.0)
    ell = bonus(feats, inv, "elliptical", 2.0)
    assert drect.shape == ell.shape == (6, 3)
    assert np.all(drect >= ell - 1e-12)          # triangle inequality in the Lambda^-1 norm
    one_hot = np.eye(4)[None]                    # ... with equality at the vertices
    assert np.allclose(bonus(one_hot, inv, "d-rect", 1.0), bonus(one_hot, inv, "elliptical", 1.0))


@pytest.mark.parametrize(("divergence", "rho", "tol"),
                         [("tv", 0.3, 0.03), ("kl", 0.1, 0.05), ("chi2", 0.1, 0.07)])
def test_ridge_robust_estimates_converge_to_exact_robust_value_iteration(divergence, rho, tol):
    """Without a bonus and with plenty of uniformly explored data, the learner's robust
    Q at the states each step visits approaches the exact robust Q of the oracle."""
    import gymnasium as gym

    from tacsuite.agents.common.linear import LinearLearner
    from tacsuite.theory.robust import robust_value_iteration

    env = gym.make("tacsuite/SimulatedLinearMDP-v0")
    model = env.unwrapped.model
    radii = np.full((3, 4), rho)
    learner = LinearLearner(3, 16, 4, rho=radii, divergence=divergence, bonus_scale=0.0,
                            lam=0.01, seed=0)
    rng = np.random.default_rng(0)
    for ep in range(5000):
        _, info = env.reset(seed=ep)
        feats = info["features"]
        for h in range(3):
            a = int(rng.integers(16))
            _, r, _, _, info = env.step(a)
            learner.observe(h, feats, a, r, None if h == 2 else info["features"])
            feats = info["features"]
    learner.plan()
    exact = robust_value_iteration(model, rho=radii, divergence=divergence)
    for h in range(3):  # state h is the one occupied at step h on the main path
        err = np.abs(learner.q_values(h, model.phi[h]) - exact.Q[h, h]).max()
        assert err < tol, (h, err)
    # Robustness matters: the nominal Q at step 1 is clearly higher. (KL and chi-square
    # balls of these radii barely move the near-point-mass factors; larger radii make the
    # worst case hinge on the 0.001 leak, which 5,000 episodes cannot estimate well.)
    nominal = robust_value_iteration(model).Q[0, 0]
    gap = (nominal - exact.Q[0, 0]).max()
    assert gap > (0.5 if divergence == "tv" else 0.01)
