"""LSD planners against the exact optimum and the LP bound."""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.agents.lsd import exact, greedy, lp_rounding, planner, recharging
from tacsuite.agents.lsd.plan import expected_rewards
from tacsuite.envs.lsd_instance import (
    laforgue_instances,
    random_instance,
    random_recharging_instance,
    random_steep_instance,
)
from tacsuite.theory.lsd import brute_force_optimum

ALPHA = 1 - 1 / np.e  # the guarantee tested for randomized LP rounding


def _monotone_instances(n: int, horizon: int = 300, family=random_instance):
    out = []
    for i in range(n):
        rng = np.random.default_rng(1000 + i)
        inst = family(int(rng.integers(2, 5)), int(rng.integers(2, 6)), horizon, rng)
        assert inst.is_monotone
        out.append((inst, exact.plan(inst).expected_reward))
    return out


FAMILIES = {"uniform": random_instance, "steep": random_steep_instance}


def test_exact_planner_is_optimal_on_tiny_instances():
    for seed in range(4):
        inst = random_instance(2, 3, 9, seed, monotone=seed % 2 == 0)
        p = exact.plan(inst)
        bf = brute_force_optimum(inst.satiated, inst.rested, inst.initial_state, 9)
        assert p.expected_reward == pytest.approx(bf.value)
        assert p.upper_bound >= p.expected_reward - 1e-9
        assert len(p.actions) == 9


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("conflict", ["payoff", "random"])
def test_lp_rounding_meets_the_guarantee_in_expectation(conflict, family):
    """E[reward] >= (1 - 1/e) OPT per instance, up to 3 standard errors over draws."""
    seeds = 10
    ratios = []
    for inst, opt in _monotone_instances(12, family=FAMILIES[family]):
        r = np.array([lp_rounding.plan(inst, seed=s, conflict=conflict).expected_reward
                      for s in range(seeds)]) / opt
        se = r.std(ddof=1) / np.sqrt(seeds)
        assert r.mean() >= ALPHA - 3 * se - 1e-9, (inst.k, inst.tau_max, r)
        assert np.all(r <= 1 + 1e-9)
        ratios.append(r.mean())
    assert np.mean(ratios) >= ALPHA


def test_the_steep_family_separates_good_planners_from_naive_ones():
    """Uniformly random play and greedy fall below the guarantee on steep instances, so
    the guarantee test above can fail."""
    rng = np.random.default_rng(0)
    rand, greedy_r = [], []
    for inst, opt in _monotone_instances(12, family=random_steep_instance):
        rand.append(expected_rewards(inst, rng.integers(0, inst.k, inst.horizon)).sum() / opt)
        greedy_r.append(greedy.plan(inst).expected_reward / opt)
    assert np.mean(rand) < ALPHA and min(rand) < 0.55
    assert min(greedy_r) < ALPHA / 2


def test_lp_rounding_is_reproducible_and_best_of_samples_helps():
    inst = random_instance(4, 5, 400, 11)
    a = lp_rounding.plan(inst, seed=3)
    b = lp_rounding.plan(inst, seed=3)
    np.testing.assert_array_equal(a.actions, b.actions)
    best = lp_rounding.plan(inst, seed=3, samples=8)
    assert best.expected_reward >= a.expected_reward
    assert best.expected_reward <= best.upper_bound
    with pytest.raises(ValueError, match="conflict rule"):
        lp_rounding.plan(inst, conflict="loudest")


def test_greedy_known_failure_instance_reproduces():
    """Laforgue et al.'s supplementary instance: greedy keeps the satiated 0.06 arm."""
    inst = laforgue_instances()["figure4"]
    opt = exact.plan(inst).expected_reward
    g = greedy.plan(inst)
    assert opt == pytest.approx(0.5 * inst.horizon)  # alternate: 0.95 + 0.05 every 2 rounds
    assert g.expected_reward == pytest.approx(0.06 * inst.horizon, abs=1.0)
    assert g.expected_reward / opt < 0.13
    assert lp_rounding.plan(inst, seed=0).expected_reward / opt > 0.95


def test_greedy_is_optimal_when_payoffs_do_not_depend_on_state():
    inst = random_instance(3, 2, 50, 0)
    flat = inst.from_arrays(np.tile([[0.2], [0.7], [0.4]], 2), np.tile([[0.2], [0.7], [0.4]], 2),
                            50)
    assert greedy.plan(flat).expected_reward == pytest.approx(35.0)
    assert np.all(greedy.plan(flat).actions == 1)


def test_recharging_planner_on_delay_only_instances():
    ratios = []
    for seed in range(8):
        inst = random_recharging_instance(3, 4, 300, seed)
        opt = exact.plan(inst).expected_reward
        ratios.append(np.mean([recharging.plan(inst, seed=s).expected_reward
                               for s in range(8)]) / opt)
    assert min(ratios) >= ALPHA
    with pytest.raises(ValueError, match="delay-only"):
        recharging.plan(random_instance(3, 3, 10, 0))


def test_planner_lookup():
    assert planner("lp-rounding") is lp_rounding
    with pytest.raises(ValueError, match="unknown planner 'best'"):
        planner("best")


def test_exact_planner_refuses_instances_beyond_its_reach():
    with pytest.raises(ValueError, match="use --planner lp-rounding"):
        exact.plan(random_instance(6, 6, 10**6, 0))
