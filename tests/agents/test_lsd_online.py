"""Online LSD learners: LP-UCB against UCB1 and the full-information planner."""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.agents.lsd import combucb1, isi_combucb1, lp_ucb, online, ucb1
from tacsuite.envs.lsd_instance import random_steep_instance
from tacsuite.theory.lsd import mean_table


@pytest.fixture(scope="module")
def steep():
    inst = random_steep_instance(3, 4, 4000, 2)
    return inst, online.planner_curve(inst)


def test_lp_ucb_regret_is_sublinear_and_beats_ucb1(steep):
    inst, planner = steep
    T = inst.horizon
    lp = lp_ucb.learn(inst, lp_ucb.LPUCBConfig(seed=0))
    base = ucb1.learn(inst, ucb1.UCB1Config(seed=0))
    reg = online.regret_columns(lp.means, planner, None)[:, 0]
    # average regret shrinks: the last quarter costs far less per round than the first
    assert reg[-1] / T < 0.6 * reg[T // 4 - 1] / (T // 4)
    assert (reg[-1] - reg[3 * T // 4 - 1]) / (T // 4) < 0.1 * planner.mean()
    assert lp.means.sum() > 1.3 * base.means.sum()
    assert np.isnan(online.regret_columns(lp.means, planner, None)[:, 1]).all()


def test_isi_combucb1_beats_ucb1_on_a_state_dependent_instance(steep):
    inst, _ = steep
    isi = isi_combucb1.learn(inst, isi_combucb1.ISICombUCB1Config(seed=0))
    base = ucb1.learn(inst, ucb1.UCB1Config(seed=0))
    assert isi.means.sum() > 1.2 * base.means.sum()


def test_learners_are_reproducible():
    inst = random_steep_instance(2, 3, 300, 0)
    for mod, cfg in ((lp_ucb, lp_ucb.LPUCBConfig), (ucb1, ucb1.UCB1Config),
                     (isi_combucb1, isi_combucb1.ISICombUCB1Config),
                     (combucb1, combucb1.CombUCB1Config)):
        a, b = mod.learn(inst, cfg(seed=4)), mod.learn(inst, cfg(seed=4))
        np.testing.assert_array_equal(a.actions, b.actions)
        np.testing.assert_array_equal(a.rewards, b.rewards)


def test_monotone_envelope_keeps_valid_bounds_and_tightens():
    inst = random_steep_instance(3, 4, 10, 5)
    mu = mean_table(inst.satiated, inst.rested)
    M = inst.tau_max
    np.testing.assert_allclose(online.monotone_envelope(mu), mu)  # exact means are fixed
    rng = np.random.default_rng(0)
    ucb = mu + rng.random(mu.shape)  # any upper bound
    env = online.monotone_envelope(ucb)
    ok = ~np.isnan(mu)
    assert np.all(env[ok] >= mu[ok] - 1e-12) and np.all(env[ok] <= ucb[ok] + 1e-12)
    assert np.all(np.diff(env[:, :M], axis=1) >= 0)  # satiated non-increasing in c
    assert np.all(np.diff(env[:, M + 1:], axis=1) >= 0)  # rested non-decreasing in m
