"""LSD oracles: DP against brute force, LP bound against the optimum, Karp's average."""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.theory import lsd


def _random(rng, monotone: bool):
    k, M = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    if monotone:
        v = np.sort(rng.random((k, 2 * M)), axis=1)
        sat, res = v[:, :M][:, ::-1], v[:, M:]
    else:
        sat, res = rng.random((k, M)), rng.random((k, M))
    s0 = rng.integers(1, M + 1, size=k) * rng.choice([1, -1], size=k, p=[0.7, 0.3])
    return sat, res, s0


def _stepwise(sat, res, s0, actions):
    """Rewards by stepping the signed state with next_state and mean_table."""
    mu, M = lsd.mean_table(sat, res), sat.shape[1]
    s, out = np.array(s0), []
    for a in actions:
        out.append(mu[a, M + s[a]])
        s = lsd.next_state(s, a, M)
    return np.array(out)


@pytest.mark.parametrize("seed", range(12))
def test_dp_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    sat, res, s0 = _random(rng, monotone=seed % 2 == 0)
    T = int(rng.integers(1, 11)) if sat.shape[0] == 2 else int(rng.integers(1, 9))
    dp = lsd.finite_horizon_optimum(sat, res, s0, T)
    bf = lsd.brute_force_optimum(sat, res, s0, T)
    assert dp.value == pytest.approx(bf.value, abs=1e-12)
    assert lsd.sequence_rewards(sat, res, s0, dp.actions).sum() == pytest.approx(dp.value)


def test_sequence_rewards_match_stepping_the_state():
    rng = np.random.default_rng(3)
    sat, res, s0 = _random(rng, monotone=False)
    acts = rng.integers(0, sat.shape[0], size=200)
    np.testing.assert_allclose(lsd.sequence_rewards(sat, res, s0, acts),
                               _stepwise(sat, res, s0, acts))


def test_model_semantics_by_hand():
    # one arm played three times in a row, then the other; M = 2.
    sat = np.array([[0.5, 0.3], [0.2, 0.1]])
    res = np.array([[0.6, 0.9], [0.7, 0.8]])
    r = lsd.sequence_rewards(sat, res, [2, 1], [0, 0, 0, 1, 0])
    # arm 0 idle 2 -> 0.9; run 1 -> 0.5; run 2 -> 0.3; arm 1 idle 4 (cap 2) -> 0.8;
    # arm 0 idle 1 -> 0.6
    np.testing.assert_allclose(r, [0.9, 0.5, 0.3, 0.8, 0.6])
    assert lsd.sequence_rewards(sat, res, [-2, 1], [0, 1])[0] == 0.3  # a continuing run


def test_dp_long_horizon_with_checkpoints_is_consistent():
    rng = np.random.default_rng(5)
    sat, res, _ = _random(rng, monotone=True)
    s0 = np.full(sat.shape[0], sat.shape[1])
    best = lsd.finite_horizon_optimum(sat, res, s0, 777)
    assert lsd.sequence_rewards(sat, res, s0, best.actions).sum() == pytest.approx(best.value)
    assert best.value == pytest.approx(
        lsd.finite_horizon_optimum(sat, res, s0, 777, actions=False).value)


@pytest.mark.parametrize("seed", range(16))
def test_lp_bound_dominates_the_exact_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    sat, res, s0 = _random(rng, monotone=seed % 2 == 0)
    lp = lsd.lp_relaxation(sat, res)
    J = lsd.average_optimum(sat, res, s0)
    assert lp.value >= J - 1e-9
    for T in (1, 2, 5, 17, 200):
        opt = lsd.finite_horizon_optimum(sat, res, s0, T, actions=False).value
        assert lsd.upper_bound(sat, res, s0, T, lp=lp) >= opt - 1e-9, T
    assert lp.pull_rate.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(6))
def test_average_optimum_is_the_limit_of_the_dp(seed):
    rng = np.random.default_rng(200 + seed)
    sat, res, s0 = _random(rng, monotone=seed % 2 == 1)
    J = lsd.average_optimum(sat, res, s0)
    v1 = lsd.finite_horizon_optimum(sat, res, s0, 1000, actions=False).value
    v2 = lsd.finite_horizon_optimum(sat, res, s0, 2000, actions=False).value
    assert (v2 - v1) / 1000 == pytest.approx(J, abs=1e-2)
    assert v2 / 2000 == pytest.approx(J, abs=1e-2)


def test_average_optimum_analytic_cases():
    # recharging arm paying 0.95 at delay >= 2 (idle >= 1) beside a flat 0.05 arm: alternate.
    sat = np.array([[0.05] * 3, [0.06] * 3])
    res = np.array([[0.05] * 3, [0.95] * 3])
    assert lsd.average_optimum(sat, res) == pytest.approx(0.5)
    # a flat arm dominates: J* is its mean.
    assert lsd.average_optimum([[0.7, 0.7], [0.1, 0.1]], [[0.7, 0.7], [0.2, 0.2]]) == \
        pytest.approx(0.7)
    # one arm pays 1 only after 2 idle rounds, the other pays nothing: period 3.
    assert lsd.average_optimum([[0, 0], [0, 0]], [[0, 1], [0, 0]]) == pytest.approx(1 / 3)


def test_recharging_lp_equals_restricted_and_full_cycle_lp():
    rng = np.random.default_rng(7)
    f = np.sort(rng.random((4, 5)), axis=1)
    sat = np.repeat(f[:, :1], 4, axis=1)
    res = f[:, 1:]
    v1, x = lsd.recharging_lp(f)
    assert x.shape == (4, 5)
    assert lsd.lp_relaxation(sat, res, runs=False).value == pytest.approx(v1, abs=1e-9)
    assert lsd.lp_relaxation(sat, res).value == pytest.approx(v1, abs=1e-9)


def test_cycle_rewards_by_hand():
    sat = np.array([[0.5, 0.3, 0.1]])
    res = np.array([[0.6, 0.7, 0.8]])
    R = lsd.cycle_rewards(sat, res)
    assert R[0, 0, 0] == pytest.approx(0.6)  # l=1, m=1
    assert R[0, 2, 1] == pytest.approx(0.7 + 0.5 + 0.3)  # l=3, m=2


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="horizon"):
        lsd.finite_horizon_optimum([[0.1]], [[0.2]], [1], 0)
    with pytest.raises(ValueError, match="initial_state"):
        lsd.finite_horizon_optimum([[0.1]], [[0.2]], [0], 3)
    with pytest.raises(ValueError, match="satiated and rested"):
        lsd.lp_relaxation([[0.1, 0.2]], [[0.2]])
    with pytest.raises(ValueError, match="reachable joint states"):
        lsd.state_graph(np.zeros((6, 6)), np.zeros((6, 6)), np.full(6, 6), max_states=100)


@pytest.mark.parametrize("seed", range(4))
def test_karp_matches_relative_value_iteration_on_the_joint_mdp(seed):
    from tacsuite.theory.average_reward import optimal_gain

    rng = np.random.default_rng(300 + seed)
    sat, res, s0 = _random(rng, monotone=seed % 2 == 0)
    g = lsd.state_graph(sat, res, s0)
    S, k = g.next.shape
    P = np.zeros((S, k, S))
    P[np.arange(S)[:, None], np.arange(k)[None, :], g.next] = 1.0
    rvi = optimal_gain(P, g.reward, tol=1e-11)
    assert lsd.average_optimum(sat, res, s0, graph=g) == pytest.approx(rvi.gain, abs=1e-7)
