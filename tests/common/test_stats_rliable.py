"""`common/stats.py` against rliable's own numbers (skipped where rliable does not import).

rliable (Agarwal et al. 2021's library) is not a dependency: it pins arch, which breaks
with pandas 3. Runs x tasks is a multiple of 4 here, where rliable's IQM (scipy's
trim_mean, whole observations) and ours (fractional weights at the cuts) coincide; the
two bootstraps draw from different random streams, so the interval ends agree up to
Monte-Carlo error, stated below as a fraction of the interval's width.
"""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.common import stats

rly = pytest.importorskip("rliable.library")
rmetrics = pytest.importorskip("rliable.metrics")

REPS = 20_000


# rliable passes `random_state` on to arch, which now warns that it prefers `generator`.
@pytest.mark.filterwarnings("ignore:random_state is deprecated:FutureWarning")
@pytest.mark.parametrize("runs, tasks, seed", [(8, 3, 0), (12, 1, 1), (20, 2, 2)])
def test_iqm_and_stratified_bootstrap_ci_match_rliable(runs, tasks, seed):
    rng = np.random.default_rng(seed)
    scores = rng.gamma(2.0, 1.0, size=(runs, tasks)) + np.arange(tasks)  # skewed, per task
    point, interval = rly.get_interval_estimates(
        {"a": scores}, lambda x: np.array([rmetrics.aggregate_iqm(x)]), reps=REPS,
        random_state=np.random.RandomState(seed))
    ours, lo, hi = stats.stratified_bootstrap_ci(scores, stats.iqm, reps=REPS, seed=seed)
    assert ours == pytest.approx(float(point["a"][0]), rel=1e-12)
    r_lo, r_hi = (float(v) for v in interval["a"][:, 0])
    width = r_hi - r_lo
    print(f"{runs}x{tasks}: IQM {ours:.4f}; CI ours [{lo:.4f}, {hi:.4f}], rliable "
          f"[{r_lo:.4f}, {r_hi:.4f}]")
    assert abs(lo - r_lo) < 0.04 * width and abs(hi - r_hi) < 0.04 * width, (
        (lo, hi), (r_lo, r_hi))
