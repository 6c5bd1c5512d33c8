"""ISI-CombUCB1 and CombUCB1: block bookkeeping against exact payoffs, hand-computed
indices, the block oracles against brute force, and pinned totals on Laforgue et al.'s
Figure 3 instance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tacsuite.agents.lsd import blocks, combucb1, greedy, isi_combucb1, lp_ucb
from tacsuite.agents.lsd.block_lp import BlockLP
from tacsuite.envs.lsd_instance import (
    LSDInstance,
    laforgue_instances,
    random_instance,
    random_recharging_instance,
)
from tacsuite.theory.lsd import next_state, sequence_rewards


def _index_table(inst: LSDInstance, view: str, cap: int) -> np.ndarray:
    """The true means laid out like the learners' index table (key -> column cap + key)."""
    idx = np.zeros((inst.k, 2 * cap + 1))
    for key in range(1, cap + 1):
        if view == "delay":
            f = inst.delay_payoffs()
            idx[:, cap + key] = f[:, key - 1]
        else:
            idx[:, cap + key] = inst.rested[:, key - 1]
            idx[:, cap - key] = inst.satiated[:, key - 1]
    return idx


def _states(inst: LSDInstance, n: int, seed: int) -> list[np.ndarray]:
    """Start states reached by random play (runs and rests of every length)."""
    rng = np.random.default_rng(seed)
    s, out = inst.initial_state.copy(), []
    for _ in range(n):
        for _ in range(int(rng.integers(1, 6))):
            s = next_state(s, int(rng.integers(0, inst.k)), inst.tau_max)
        out.append(s.copy())
    return out


@pytest.mark.parametrize("view", ["lsd", "delay"])
def test_combucb1_block_score_with_true_means_is_the_block_payoff(view):
    inst = (random_instance(3, 3, 10, 4, monotone=False) if view == "lsd"
            else random_recharging_instance(3, 4, 10, 4))
    learner = combucb1.CombUCB1(inst, combucb1.CombUCB1Config(d=4, states=view))
    b = learner.blocks
    assert b.cap == inst.tau_max + (view == "delay")  # no lumping: scores are exact
    idx = _index_table(inst, view, b.cap)
    for state in _states(inst, 12, 0):
        score = learner.scores(idx, state)
        truth = [sequence_rewards(inst.satiated, inst.rested, state, seq).sum()
                 for seq in b.seqs]
        np.testing.assert_allclose(score, truth, atol=1e-12)


@pytest.mark.parametrize("view", ["lsd", "delay"])
def test_isi_score_counts_exactly_the_plays_the_block_fixes(view):
    """With true means the ISI score is the payoff of every play but the first play of
    each arm (and, with LSD states, the opening run), whatever state the block starts in."""
    inst = (random_instance(2, 3, 10, 1, monotone=False) if view == "lsd"
            else random_recharging_instance(2, 4, 10, 1))
    learner = isi_combucb1.ISICombUCB1(inst, isi_combucb1.ISICombUCB1Config(d=4,
                                                                           states=view))
    b = learner.blocks
    score = b.inner @ _index_table(inst, view, b.cap).ravel()
    for state in _states(inst, 8, 1):
        for n, seq in enumerate(b.seqs.tolist()):
            pay = sequence_rewards(inst.satiated, inst.rested, state, seq)
            counted = [q for q, a in enumerate(seq) if a in seq[:q]
                       and not (view == "lsd" and all(x == a for x in seq[:q + 1]))]
            assert score[n] == pytest.approx(pay[counted].sum(), abs=1e-12)


def test_block_bookkeeping_by_hand():
    b = blocks.enumerate_blocks(2, 4, "lsd", 3)
    row = {tuple(s): i for i, s in enumerate(b.seqs.tolist())}
    n = row[(0, 0, 1, 0)]  # the opening run may continue; arm 1's play is a first play;
    assert b.inner[n].sum() == 1 and b.inner[n, b.column(0, 1)] == 1  # arm 0 idle 1
    assert b.run[n] == 2 and b.first[n].tolist() == [0, 2]
    n = row[(1, 0, 0, 0)]  # arm 0 switched on at 1: runs of 1 and 2 rounds
    assert b.inner[n, b.column(0, -1)] == 1 and b.inner[n, b.column(0, -2)] == 1
    assert b.inner[n].sum() == 2
    d = blocks.enumerate_blocks(2, 4, "delay", 4)
    n = row[(0, 0, 1, 0)]  # delays 1 then 2 for arm 0
    assert d.inner[n, d.column(0, 1)] == 1 and d.inner[n, d.column(0, 2)] == 1
    assert d.inner[n].sum() == 2
    with pytest.raises(ValueError, match="choose a smaller d"):
        blocks.enumerate_blocks(10, 6, "lsd", 3)


def test_ucb_indices_by_hand():
    table = blocks.UCBTable(k=2, cap=3, length=3, alpha=1.5)
    assert table.unseen == pytest.approx(3 * math.sqrt(1.5 * math.log(6)))
    table.add(0, 1, 1.0)
    table.add(0, 1, 0.0)
    table.add(1, 3, 1.0)
    idx = table.indices(10)
    assert idx[0, 3 + 1] == pytest.approx(0.5 + math.sqrt(1.5 * math.log(10) / 2))
    assert idx[1, 3 + 3] == pytest.approx(1.0 + math.sqrt(1.5 * math.log(10)))
    assert idx[0, 3 + 2] == pytest.approx(table.unseen) and idx[0, 3] == 0.0


def test_visited_refresh_keeps_stale_indices_by_hand():
    """The authors' refresh: only the base arms the arms sit in are recomputed, with the
    log of that round; the others keep their old value."""
    table = blocks.UCBTable(k=2, cap=3, length=3, alpha=1.5, refresh="visited")
    table.add(0, 1, 1.0)
    table.revisit(4, np.array([1, 2]))  # arm 0 sits at delay 1 (seen), arm 1 at 2 (unseen)
    stale = 1.0 + math.sqrt(1.5 * math.log(4))
    assert table.indices(100)[0, 3 + 1] == pytest.approx(stale)
    assert table.indices(100)[1, 3 + 2] == pytest.approx(table.unseen)
    table.add(0, 2, 0.0)
    table.revisit(9, np.array([2, 3]))
    idx = table.indices(100)
    assert idx[0, 3 + 1] == pytest.approx(stale)  # not visited: still the round-4 value
    assert idx[0, 3 + 2] == pytest.approx(math.sqrt(1.5 * math.log(9)))
    assert blocks.UCBTable(2, 3, 3, 1.5).indices(100)[0, 3 + 1] == pytest.approx(table.unseen)
    with pytest.raises(ValueError, match="refresh 'never' is not one of"):
        blocks.UCBTable(2, 3, 3, 1.5, refresh="never")


def test_random_ties_draw_among_the_tied_only():
    score = np.array([1.0, 3.0, 2.0, 3.0, 3.0 - 1e-12])
    assert blocks.pick(score, 1e-9, None) == 1
    rng = blocks.tie_rng("random", 0)
    drawn = {blocks.pick(score, 1e-9, rng) for _ in range(200)}
    assert drawn == {1, 3, 4}
    assert blocks.tie_rng("first", 0) is None
    with pytest.raises(ValueError, match="ties 'any' is not one of"):
        blocks.tie_rng("any", 0)


def test_first_play_keys_follow_the_env():
    """The state an arm has at its first play of the block, as the env reports it."""
    M, L = 3, 4
    for view, cap in (("lsd", 3), ("delay", 4)):
        for start in ([-2, 1, 3], [1, -1, 2]):
            keys = blocks.first_play_keys(np.array(start), view, cap, L)
            for a in range(3):
                other = (a + 1) % 3
                s = np.array(start)
                for q in range(L):
                    assert keys[a, q] == blocks.key_of(int(s[a]), view, cap)
                    s = next_state(s, other, M)


def test_exact_oracle_is_the_best_block_and_the_lp_bounds_it():
    rng = np.random.default_rng(0)
    k, L = 2, 4
    b = blocks.enumerate_blocks(k, L, "delay", L)
    lp = BlockLP(k, L)
    for _ in range(5):
        idx = np.zeros((k, 2 * L + 1))
        idx[:, L + 1:] = rng.random((k, L))
        value = blocks.repeat_values(idx, b)
        first = rng.random((k, L))
        c = lp._costs(first, value)
        brute = []
        for seq in itertools.product(range(k), repeat=L):
            seen, tot = {}, 0.0
            for q, a in enumerate(seq):
                tot += first[a, q] if a not in seen else value[a, q - seen[a]]
                seen[a] = q
            brute.append(tot)
            assert c @ lp._fixed(list(seq))[:, 0] == pytest.approx(tot)
        first_ext = np.concatenate([first, np.zeros((k, 1))], axis=1)
        score = b.inner @ idx.ravel() + first_ext[np.arange(k)[None, :], b.first].sum(axis=1)
        np.testing.assert_allclose(score, brute, atol=1e-12)
        assert tuple(b.best(score)) == next(itertools.islice(
            itertools.product(range(k), repeat=L), int(np.argmax(brute)), None))
        assert lp.value(c, []) >= max(brute) - 1e-9
        chosen = lp.best(first, value)
        assert brute[int(np.ravel_multi_index(chosen, (k,) * L))] <= max(brute) + 1e-12


def test_views_and_oracles_are_checked():
    inst = random_instance(2, 3, 10, 0, monotone=False)
    with pytest.raises(ValueError, match="delay-only"):
        isi_combucb1.ISICombUCB1(inst, isi_combucb1.ISICombUCB1Config(states="delay"))
    with pytest.raises(ValueError, match="delay states only"):
        combucb1.CombUCB1(inst, combucb1.CombUCB1Config(oracle="lp"))
    with pytest.raises(ValueError, match="not one of"):
        combucb1.CombUCB1(inst, combucb1.CombUCB1Config(oracle="best"))


@pytest.fixture(scope="module")
def figure3_short():
    return laforgue_instances()["figure3"].with_horizon(1200)


def test_figure3_totals_are_pinned_and_ordered(figure3_short):
    """Seeded totals at T = 1200 with the paper's d = 3 and the authors' LP-rounding
    oracle (the default here) and with the exact one: ISI-CombUCB1 far ahead of greedy
    and CombUCB1 (which lumps delays >= 3 and so misses arm 2's 0.96 at delay 9), lp-ucb
    (which models every delay) ahead of all."""
    inst = figure3_short
    isi = isi_combucb1.learn(inst, isi_combucb1.ISICombUCB1Config(seed=0, d=3))
    comb = combucb1.learn(inst, combucb1.CombUCB1Config(seed=0, d=3))
    lp = lp_ucb.learn(inst, lp_ucb.LPUCBConfig(seed=0, monotone=False))
    g = greedy.plan(inst).expected_reward
    assert isi.rewards.sum() == 325 and comb.rewards.sum() == 172
    assert lp.means.sum() > isi.means.sum() > 1.5 * g > 1.5 * 0.9 * comb.means.sum()
    isi = isi_combucb1.learn(inst, isi_combucb1.ISICombUCB1Config(seed=0, d=3, oracle="exact"))
    comb = combucb1.learn(inst, combucb1.CombUCB1Config(seed=0, d=3, oracle="exact"))
    assert isi.rewards.sum() == 322 and comb.rewards.sum() == 169
    assert lp.means.sum() > isi.means.sum() > 1.5 * g > 1.5 * 0.9 * comb.means.sum()


def test_block_learners_reproduce_with_a_seed(figure3_short):
    inst = figure3_short.with_horizon(300)
    for mod, cfg in ((isi_combucb1, isi_combucb1.ISICombUCB1Config),
                     (combucb1, combucb1.CombUCB1Config)):
        a, b = mod.learn(inst, cfg(seed=4, d=3)), mod.learn(inst, cfg(seed=4, d=3))
        np.testing.assert_array_equal(a.actions, b.actions)
        np.testing.assert_array_equal(a.rewards, b.rewards)
        c = mod.learn(inst, cfg(seed=5, d=3))
        assert not np.array_equal(a.rewards, c.rewards)
