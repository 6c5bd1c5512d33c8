import numpy as np
import pytest
from scipy import stats as sps

from tacsuite.common import stats


@pytest.mark.parametrize("n", [4, 8, 20, 100])
def test_iqm_equals_25pct_trimmed_mean_when_n_divisible_by_4(n):
    x = np.random.default_rng(n).normal(size=n)
    assert stats.iqm(x) == pytest.approx(sps.trim_mean(x, 0.25), rel=1e-12)


def test_iqm_fractional_weights_and_robustness():
    assert stats.iqm([1, 2, 3, 4, 5]) == pytest.approx((0.75 * 2 + 3 + 0.75 * 4) / 2.5)
    assert stats.iqm([0, 1, 1, 1, 1e9]) == pytest.approx(1.0)


def test_bootstrap_ci_brackets_and_covers():
    rng = np.random.default_rng(0)
    hits = 0
    for i in range(60):
        x = rng.normal(loc=1.0, size=(20, 2))
        point, lo, hi = stats.stratified_bootstrap_ci(x, np.mean, reps=400, seed=i)
        assert lo <= point <= hi
        hits += lo <= 1.0 <= hi
    assert hits >= 50  # ~95% nominal coverage; 50/60 leaves room for bootstrap bias


def test_stratification_keeps_each_task_column():
    x = np.column_stack([np.zeros(10), np.ones(10)])
    point, lo, hi = stats.stratified_bootstrap_ci(x, np.mean, reps=200)
    assert point == lo == hi == 0.5


def test_bad_scores():
    with pytest.raises(ValueError, match="NaN"):
        stats.iqm([1.0, np.nan])
    with pytest.raises(ValueError, match="shape"):
        stats.iqm(np.zeros((2, 2, 2)))


def test_mean_ci():
    out = stats.mean_ci(np.arange(100.0))
    assert out["ci_low"] < 49.5 < out["ci_high"] and out["n"] == 100
