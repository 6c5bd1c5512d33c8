"""A Bellman-completeness counterexample: FQI's function class must grow with |S|, RCSL's not.

In the spirit of Zhou et al. (ICLR 2024, the MBRCSL paper), on a chain of n states used as
a scalar input s in {1..n}:

- two actions a in {0, 1}, reward r(s, a) = a, deterministic transition s' = sigma(s)
  where sigma swaps neighbours (1 <-> 2, 3 <-> 4, ...);
- the optimal policy is "always a = 1" and Q*(s, a) = a + gamma / (1 - gamma), so Q* and
  the optimal (return-conditioned) policy are realizable by a width-1 two-layer ReLU net;
- but f(s, a) = s is in every such class, and its backup Tf(s, a) = a + gamma * sigma(s)
  zig-zags: its values have n - 2 strict local extrema over the grid, and a 1-D ReLU net
  of width w is piecewise linear with at most w kinks, each extremum needing one. A
  Bellman-complete class (closed under T) therefore needs width >= n - 2.

`minimal_width` measures the same thing empirically: the smallest width of a two-layer
ReLU net (hidden weights at random knots, output layer by least squares, i.e. the best
fit in that random class) that matches a target within `tol` on all n states.
"""

from __future__ import annotations

import numpy as np


def zigzag_permutation(n: int) -> np.ndarray:
    """sigma over states 1..n (as a 0-based array of values 1..n) swapping 2k-1 <-> 2k."""
    if not isinstance(n, int | np.integer) or n < 4 or n % 2:
        raise ValueError(f"n must be an even integer >= 4, got {n!r}")
    s = np.arange(1, n + 1)
    return np.where(s % 2 == 1, s + 1, s - 1)


def bellman_backup_of_identity(n: int, gamma: float = 0.9) -> np.ndarray:
    """Tf(s, a) for f(s, a) = s: rows are states 1..n, columns the actions 0 and 1."""
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    sig = zigzag_permutation(n).astype(np.float64)
    return np.stack([gamma * sig, 1.0 + gamma * sig], axis=1)


def optimal_q(n: int, gamma: float = 0.9) -> np.ndarray:
    zigzag_permutation(n)
    return np.tile([gamma / (1 - gamma), 1.0 + gamma / (1 - gamma)], (n, 1))


def optimal_policy(n: int) -> np.ndarray:
    """The action RCSL must output when conditioned on the optimal return: always 1."""
    zigzag_permutation(n)
    return np.ones((n, 1))


def local_extrema(values: np.ndarray) -> int:
    """Strict interior local extrema of a sequence: a lower bound on the kinks of any
    piecewise-linear function through the points (i, values[i])."""
    d = np.diff(np.asarray(values, dtype=np.float64))
    return int(np.sum(d[:-1] * d[1:] < 0))


def width_lower_bound(n: int, gamma: float = 0.9) -> int:
    """Kinks any 1-D ReLU net needs to represent T(identity) exactly (each unit adds one)."""
    return local_extrema(bellman_backup_of_identity(n, gamma)[:, 0])


def relu_features(n: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Hidden layer of a width-`width` two-layer ReLU net on s in 1..n, plus a bias unit."""
    s = np.arange(1, n + 1, dtype=np.float64)[:, None]
    knots = rng.uniform(1.0, n, size=width)
    signs = rng.choice([-1.0, 1.0], size=width)
    return np.concatenate([np.maximum(signs * (s - knots), 0.0), np.ones((n, 1))], axis=1)


def fit_error(target: np.ndarray, width: int, rng: np.random.Generator) -> float:
    """Max error over states of the least-squares width-`width` net, per column of target."""
    phi = relu_features(len(target), width, rng)
    coef, *_ = np.linalg.lstsq(phi, target, rcond=None)
    return float(np.max(np.abs(phi @ coef - target)))


def minimal_width(target: np.ndarray, tol: float = 0.05, seed: int = 0,
                  max_width: int | None = None) -> int:
    """Smallest width whose best fit is within `tol` everywhere (doubling, then bisection)."""
    n = len(target)
    max_width = max_width or 8 * n
    rng_for = lambda w: np.random.default_rng([seed, w])  # noqa: E731  (same knots per width)
    if fit_error(target, 0, rng_for(0)) <= tol:
        return 0
    hi = 1
    while fit_error(target, hi, rng_for(hi)) > tol:
        hi *= 2
        if hi > max_width:
            return max_width
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fit_error(target, mid, rng_for(mid)) <= tol:
            hi = mid
        else:
            lo = mid
    return hi


def width_experiment(sizes=(8, 16, 32, 64, 128), seeds: int = 5, gamma: float = 0.9,
                     tol: float = 0.05) -> dict:
    """Minimal widths vs |S| for FQI's completeness target and for RCSL's policy target."""
    out = {"sizes": list(sizes), "lower_bound": [], "fqi_width": [], "q_star_width": [],
           "rcsl_width": []}
    for n in sizes:
        backup = bellman_backup_of_identity(n, gamma)
        out["lower_bound"].append(width_lower_bound(n, gamma))
        out["fqi_width"].append([minimal_width(backup, tol, s) for s in range(seeds)])
        out["q_star_width"].append([minimal_width(optimal_q(n, gamma), tol, s)
                                    for s in range(seeds)])
        out["rcsl_width"].append([minimal_width(optimal_policy(n), tol, s)
                                  for s in range(seeds)])
    return out
