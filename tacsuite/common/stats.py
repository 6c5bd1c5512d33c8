"""Aggregate statistics over seeds: interquartile mean with stratified-bootstrap CIs.

Follows Agarwal et al. (NeurIPS 2021): IQM is the mean of the middle 50% of all run
scores; the confidence interval resamples runs with replacement independently within
each task (stratified bootstrap) and takes percentiles of the statistic.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _as_runs_by_tasks(scores) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"scores must have shape (runs,) or (runs, tasks), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("scores contain NaN or inf")
    return x


def iqm(scores) -> float:
    """Interquartile mean of all scores, pooled over tasks (25% trimmed from each end).

    Fractional observations at the quartile cuts get fractional weight, so the value is
    continuous in the data and exact for any number of runs.
    """
    x = np.sort(_as_runs_by_tasks(scores).ravel())
    n = x.size
    lo, hi = 0.25 * n, 0.75 * n
    edges = np.arange(n + 1, dtype=np.float64)
    w = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
    return float(np.dot(w, x) / w.sum())


def stratified_bootstrap_ci(scores, statistic: Callable[[np.ndarray], float] = iqm,
                            reps: int = 2000, confidence: float = 0.95,
                            seed: int = 0) -> tuple[float, float, float]:
    """(point, low, high) of `statistic` with a percentile stratified-bootstrap interval."""
    x = _as_runs_by_tasks(scores)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    runs, tasks = x.shape
    point = float(statistic(x))
    boot = np.empty(reps)
    cols = np.arange(tasks)[None, :]
    for i in range(reps):
        idx = rng.integers(0, runs, size=(runs, tasks))
        boot[i] = statistic(x[idx, cols])
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return point, float(lo), float(hi)


def iqm_ci(scores, reps: int = 2000, seed: int = 0) -> dict[str, float]:
    point, lo, hi = stratified_bootstrap_ci(scores, iqm, reps=reps, seed=seed)
    return {"iqm": point, "ci_low": lo, "ci_high": hi, "n": int(np.asarray(scores).shape[0])}


def iqm_curve(curves, reps: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Pointwise IQM and CI of curves shaped (runs, points)."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"curves must have shape (runs, points), got {c.shape}")
    out = np.array([stratified_bootstrap_ci(c[:, j], iqm, reps=reps, seed=seed)
                    for j in range(c.shape[1])])
    return out[:, 0], out[:, 1], out[:, 2]


def mean_ci(values, confidence: float = 0.95) -> dict[str, float]:
    """Mean with a normal-approximation confidence interval (for many i.i.d. episodes)."""
    from scipy import stats as sps

    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("mean_ci needs at least one value")
    m = float(v.mean())
    half = float(sps.norm.ppf(0.5 + confidence / 2) * v.std(ddof=1) / np.sqrt(v.size)) \
        if v.size > 1 else 0.0
    return {"mean": m, "ci_low": m - half, "ci_high": m + half, "n": int(v.size)}
