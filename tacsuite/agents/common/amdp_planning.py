"""Average-reward planners the tabular learners call at their switches.

All three iterate on the aperiodic transform P~ = tau P + (1 - tau) I (same optimal
policies, gain scaled by tau), so periodic optimistic models converge too, and stop when
the span of the increment certifies the gain to `eps` (Puterman 8.5.1; Jaksch et al. 2010):

- `relative_value_iteration`: one known model (PSRL's sampled model).
- `extended_value_iteration`: UCRL2's L1 confidence set around the empirical model.
- `value_targeted_evi`: the value-targeted confidence set of model-based LOOP, an
  empirical-Bernstein slab on (P - P^) . v along the value being planned with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Plan:
    gain: float        # (optimistic) gain of the plan, in the learner's reward units
    bias: np.ndarray   # (S,) relative values, min 0
    policy: np.ndarray  # (S,) greedy action per state
    backup: np.ndarray  # (S, A) r + p.v of the chosen model at the final bias
    iterations: int


def span_iteration(backup_fn, S: int, eps: float, tau: float, max_iter: int,
                   v0: np.ndarray | None) -> Plan:
    """Iterate v <- tau max_a backup_fn(v) + (1 - tau) v until the increment's span < tau eps."""
    if not 0 < tau <= 1:
        raise ValueError(f"aperiodicity tau must be in (0, 1], got {tau}")
    v = np.zeros(S) if v0 is None else np.asarray(v0, dtype=np.float64) - np.min(v0)
    it = 0
    while it < max_iter:
        it += 1
        q = backup_fn(v)
        new = tau * q.max(1) + (1 - tau) * v
        diff = new - v
        v = new - new.min()
        if np.ptp(diff) < tau * eps:
            break
    q = backup_fn(v)
    gain = float(0.5 * (diff.max() + diff.min()) / tau)
    return Plan(gain, v, q.argmax(1), q, it)


def relative_value_iteration(P: np.ndarray, R: np.ndarray, eps: float = 1e-3,
                             tau: float = 0.5, max_iter: int = 20_000,
                             v0: np.ndarray | None = None) -> Plan:
    """Gain-optimal policy of one model (S, A, S), (S, A)."""
    S = R.shape[0]
    return span_iteration(lambda v: R + P @ v, S, eps, tau, max_iter, v0)


def l1_optimistic_values(p_hat: np.ndarray, width: np.ndarray, v: np.ndarray) -> np.ndarray:
    """max p.v over {p in simplex : ||p - p_hat||_1 <= width} for every (s, a).

    The maximiser moves width/2 of mass onto the best state and removes it from the worst
    states first (Jaksch et al. 2010, Fig. 2), vectorised over (s, a) with one sort of v.
    """
    order = np.argsort(-v, kind="stable")
    q = p_hat[..., order]
    add = np.minimum(width / 2, 1.0 - q[..., 0])
    suffix = np.cumsum(q[..., ::-1], axis=-1)[..., ::-1] - q  # mass strictly after j
    removed = np.clip(add[..., None] - suffix, 0.0, q)
    removed[..., 0] = 0.0
    q = q - removed
    q[..., 0] += add
    return q @ v[order]


def extended_value_iteration(p_hat: np.ndarray, r_up: np.ndarray, width: np.ndarray,
                             eps: float, tau: float = 0.5, max_iter: int = 20_000,
                             v0: np.ndarray | None = None) -> Plan:
    """UCRL2's optimistic plan: rewards r_up (S, A), L1 radii width (S, A)."""
    S = r_up.shape[0]
    return span_iteration(lambda v: r_up + l1_optimistic_values(p_hat, width, v), S, eps, tau,
                          max_iter, v0)


def bernstein_width(n: np.ndarray, var: np.ndarray, span: float | np.ndarray,
                    log_term: float) -> np.ndarray:
    """Empirical-Bernstein half-width (Maurer & Pontil 2009) of a mean of n samples with
    empirical variance var and range span; infinite where n < 2."""
    n = np.asarray(n, dtype=np.float64)
    m = np.maximum(n - 1, 1.0)
    w = np.sqrt(2 * np.maximum(var, 0.0) * log_term / np.maximum(n, 1)) \
        + 7 * span * log_term / (3 * m)
    return np.where(n >= 2, w, np.inf)


def value_targeted_evi(p_hat: np.ndarray, n: np.ndarray, r_up: np.ndarray, log_term: float,
                       eps: float, scale: float = 1.0, tau: float = 0.5,
                       max_iter: int = 20_000, v0: np.ndarray | None = None) -> Plan:
    """Optimistic plan over the value-targeted set {P : (P - P^)(s,a).v <= w(s,a; v)}.

    For the value v being backed up, the fitted prediction p^.v is raised by the
    empirical-Bernstein width of the regression of v(s') on (s, a), and capped at max v
    (the simplex). The set is convex and contains p^, so this equals the maximum of p.v
    over the slab intersected with the simplex.
    """
    S = r_up.shape[0]

    def backup(v: np.ndarray) -> np.ndarray:
        mean = p_hat @ v
        var = p_hat @ (v * v) - mean * mean
        w = scale * bernstein_width(n, var, np.ptp(v), log_term)
        return r_up + np.minimum(mean + w, v.max())

    return span_iteration(backup, S, eps, tau, max_iter, v0)
