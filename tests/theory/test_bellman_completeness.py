"""The width counterexample: completeness needs width ~ |S|, realizability of Q*/RCSL does not."""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.theory import bellman_completeness as bc


def test_permutation_and_backup_are_exact():
    assert bc.zigzag_permutation(6).tolist() == [2, 1, 4, 3, 6, 5]
    assert sorted(bc.zigzag_permutation(10).tolist()) == list(range(1, 11))
    t = bc.bellman_backup_of_identity(4, gamma=0.5)
    assert t.tolist() == [[1.0, 2.0], [0.5, 1.5], [2.0, 3.0], [1.5, 2.5]]
    # Q* is the fixed point of T: Q*(s, a) = a + gamma * max_a' Q*(sigma(s), a')
    q = bc.optimal_q(8, 0.9)
    sig = bc.zigzag_permutation(8) - 1
    assert np.allclose(q, np.array([0.0, 1.0]) + 0.9 * q[sig].max(1, keepdims=True))


def test_lower_bound_is_n_minus_two():
    assert bc.local_extrema(np.array([0, 1, 0, 1, 0])) == 3
    assert bc.local_extrema(np.arange(5)) == 0
    for n in (4, 8, 30, 100):
        assert bc.width_lower_bound(n) == n - 2


@pytest.mark.parametrize("n", [8, 16])
def test_fitted_width_respects_the_bound_and_realizable_targets_need_none(n):
    for seed in range(3):
        assert bc.minimal_width(bc.bellman_backup_of_identity(n), seed=seed) >= n - 2
        assert bc.minimal_width(bc.optimal_q(n), seed=seed) == 0
        assert bc.minimal_width(bc.optimal_policy(n), seed=seed) == 0


def test_completeness_width_grows_with_states():
    r = bc.width_experiment(sizes=(8, 32), seeds=2)
    small, large = (np.median(w) for w in r["fqi_width"])
    assert large >= 3 * small
    assert r["rcsl_width"] == [[0, 0], [0, 0]]


def test_bad_inputs():
    with pytest.raises(ValueError, match="even"):
        bc.zigzag_permutation(7)
    with pytest.raises(ValueError, match="gamma"):
        bc.bellman_backup_of_identity(8, gamma=1.0)
