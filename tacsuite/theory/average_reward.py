"""Exact average-reward (gain) oracles for finite MDPs.

`policy_gain` solves Puterman's multichain evaluation equations exactly, `optimal_gain`
runs relative value iteration on the aperiodic transform (valid for weakly communicating
MDPs), and `optimal_gain_lp` solves the dual linear program over stationary state-action
frequencies; the last two are independent and checked against each other in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class GainSolution:
    gain: float
    bias: np.ndarray
    policy: np.ndarray  # deterministic greedy action per state
    iterations: int


def _check(P: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P = np.asarray(P, dtype=np.float64)
    R = np.asarray(R, dtype=np.float64)
    if P.ndim != 3 or P.shape[0] != P.shape[2] or R.shape != P.shape[:2]:
        raise ValueError(f"need P (S, A, S) and R (S, A); got {P.shape} and {R.shape}")
    return P, R


def policy_matrices(P, R, pi) -> tuple[np.ndarray, np.ndarray]:
    """Transition matrix and reward vector of a (stochastic) stationary policy pi (S, A)."""
    P, R = _check(P, R)
    pi = np.asarray(pi, dtype=np.float64)
    if pi.ndim == 1:
        pi = np.eye(P.shape[1])[pi.astype(int)]
    if pi.shape != R.shape or np.any(pi < 0) or not np.allclose(pi.sum(1), 1):
        raise ValueError(f"policy must be a distribution over actions per state, shape {R.shape}")
    return np.einsum("sa,sat->st", pi, P), (pi * R).sum(1)


def policy_gain(P, R, pi) -> tuple[np.ndarray, np.ndarray]:
    """(gain vector g, bias h) of a stationary policy, exact for multichain models.

    Solves g = P g, g + h = r + P h, h + w = P w (the third pins h down uniquely).
    """
    Ppi, rpi = policy_matrices(P, R, pi)
    S = Ppi.shape[0]
    I, Z = np.eye(S), np.zeros((S, S))
    A = np.block([[I - Ppi, Z, Z], [I, I - Ppi, Z], [Z, I, I - Ppi]])
    b = np.concatenate([np.zeros(S), rpi, np.zeros(S)])
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    return x[:S], x[S:2 * S]


def optimal_gain(P, R, tol: float = 1e-12, max_iter: int = 1_000_000,
                 aperiodicity: float = 0.5) -> GainSolution:
    """Optimal gain by relative value iteration on the aperiodic transform."""
    P, R = _check(P, R)
    S = P.shape[0]
    Pt = aperiodicity * P + (1 - aperiodicity) * np.eye(S)[:, None, :]
    h = np.zeros(S)
    for it in range(1, max_iter + 1):
        q = R + Pt @ h
        v = q.max(1)
        span = np.ptp(v - h)
        h_new = v - v[0]
        if span < tol:
            gain = float(np.mean(v - h))
            return GainSolution(gain, h_new / aperiodicity, q.argmax(1), it)
        h = h_new
    raise RuntimeError(f"relative value iteration did not converge in {max_iter} iterations")


def optimal_gain_lp(P, R) -> tuple[float, np.ndarray]:
    """Optimal gain of a communicating MDP from the dual LP; returns (gain, frequencies)."""
    P, R = _check(P, R)
    S, A = R.shape
    # Balance: sum_a x(s', a) - sum_{s, a} x(s, a) P(s' | s, a) = 0, and sum x = 1.
    balance = np.zeros((S, S * A))
    for s in range(S):
        for a in range(A):
            balance[s, s * A + a] += 1.0
            balance[:, s * A + a] -= P[s, a]
    A_eq = np.vstack([balance, np.ones((1, S * A))])
    b_eq = np.concatenate([np.zeros(S), [1.0]])
    res = linprog(-R.ravel(), A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if not res.success:
        raise RuntimeError(f"average-reward LP failed: {res.message}")
    return float(-res.fun), res.x.reshape(S, A)
