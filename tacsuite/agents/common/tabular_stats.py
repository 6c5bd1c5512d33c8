"""Visit counts and reward moments of a tabular learner, updated one transition at a time."""

from __future__ import annotations

import math

import numpy as np


class TabularCounts:
    def __init__(self, S: int, A: int):
        self.S, self.A = S, A
        self.N = np.zeros((S, A, S))
        self.n = np.zeros((S, A))
        self.r_sum = np.zeros((S, A))
        self.r_sq = np.zeros((S, A))

    def add(self, s: int, a: int, r: float, s2: int) -> None:
        self.N[s, a, s2] += 1
        self.n[s, a] += 1
        self.r_sum[s, a] += r
        self.r_sq[s, a] += r * r

    def p_hat(self) -> np.ndarray:
        return self.N / np.maximum(self.n, 1)[..., None]

    def r_hat(self) -> np.ndarray:
        return self.r_sum / np.maximum(self.n, 1)

    def r_var(self) -> np.ndarray:
        m = self.r_hat()
        return np.maximum(self.r_sq / np.maximum(self.n, 1) - m * m, 0.0)


def bernstein_scalar(n: float, var: float, span: float, log_term: float) -> float:
    """Scalar twin of `amdp_planning.bernstein_width` for the per-step switching tests."""
    if n < 2:
        return math.inf
    return math.sqrt(2 * max(var, 0.0) * log_term / n) + 7 * span * log_term / (3 * (n - 1))


def greedy(q: np.ndarray) -> np.ndarray:
    return np.asarray(q).argmax(-1)
