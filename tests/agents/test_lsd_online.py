"""Online LSD learners: LP-UCB against UCB1 and the full-information planner."""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.agents.lsd import isi_combucb1, lp_ucb, online, ucb1
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
                     (isi_combucb1, isi_combucb1.ISICombUCB1Config)):
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


def test_isi_block_counts_by_hand():
    seqs, counts = isi_combucb1.block_counts(2, 3, 4)
    row = {tuple(s): c for s, c in zip(seqs.tolist(), counts, strict=True)}
    cols = 2 * 3 + 1
    # (0, 0, 1, 0): the opening run of arm 0 may continue the previous block and arm 1's
    # only play is a first play, so only the last play counts: arm 0 after one idle round.
    c = row[(0, 0, 1, 0)]
    assert c[0 * cols + 3 + 1] == 1 and c.sum() == 1
    # (1, 0, 0, 0): arm 0's first play is excluded, then runs of 1 and 2 rounds.
    c = row[(1, 0, 0, 0)]
    assert c[0 * cols + 3 - 1] == 1 and c[0 * cols + 3 - 2] == 1 and c.sum() == 2
    assert row[(1, 1, 1, 1)].sum() == 0
    with pytest.raises(ValueError, match="choose a smaller d"):
        isi_combucb1.block_counts(10, 3, 6)
