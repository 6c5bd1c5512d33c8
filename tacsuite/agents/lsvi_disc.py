"""Discounted-approximation optimistic LSVI with span clipping for linear AMDPs
(Hong, Chae, Zhang, Lee & Tewari, 2024, arXiv 2405.15050).

The average-reward problem is approximated by a discounted one with 1 - gamma of order
1/sqrt(T). At each replanning time the learner runs value iteration on the optimistic
ridge-regression model, Q(s, a) = phi^T Lambda^-1 sum_i phi_i (r_i + gamma V(s_{i+1}))
+ beta ||phi(s, a)||_{Lambda^-1}, with V(s) = max_a Q(s, a) clipped to min V + B over the
states seen so far (span clipping keeps the optimistic values from growing like
1/(1 - gamma)), and follows the greedy policy until det Lambda has doubled. Next states
are grouped by their observation index, so one iteration costs O(S A d) however long the
stream. beta = bonus_scale (1 + B) sqrt(d log(1 + t / (lam d)) + 2 log(1/delta)) / 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tacsuite.agents.common.continuing import (
    ContinuingConfig,
    ContinuingRun,
    run_continuing,
    summary,  # noqa: F401 (the CLI line)
)


@dataclass
class Config(ContinuingConfig):
    env: str = "tacsuite/LinearAMDP-v0"
    """Environment id (Discrete observations and actions, info["features"] = phi(s, .))."""
    out: str = "runs/lsvi-disc"
    discount: float = 0.0
    """gamma; 0 picks 1 - 1/sqrt(T)."""
    span: float = 4.0
    """Span bound B of the clipped values (should be >= sp(h*))."""
    lam: float = 1.0
    """Ridge regularisation lambda."""
    bonus_scale: float = 1.0
    """Multiplier on the bonus radius beta."""
    delta: float = 0.05
    """Confidence level delta in beta."""


class LSVIDiscounted:
    def __init__(self, S: int, A: int, d: int, steps: int, discount: float, span: float,
                 lam: float, bonus_scale: float, delta: float):
        gamma = discount if discount > 0 else 1 - 1 / math.sqrt(steps)
        if not 0 < gamma < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        if span <= 0 or lam <= 0 or bonus_scale < 0 or not 0 < delta < 1:
            raise ValueError(f"need span > 0, lam > 0, bonus_scale >= 0, 0 < delta < 1; got "
                             f"{span}, {lam}, {bonus_scale}, {delta}")
        self.S, self.A, self.d = S, A, d
        self.gamma, self.B, self.lam, self.scale, self.delta = gamma, span, lam, bonus_scale, \
            delta
        self.Lam = lam * np.eye(d)
        self.Lam_inv = np.eye(d) / lam
        self.u = np.zeros(d)
        self.M = np.zeros((d, S))
        self.F = np.zeros((S, A, d))
        self.seen = np.zeros(S, dtype=bool)
        self.n = 0
        self.logdet = self.logdet_k = d * math.log(lam)
        self.w = np.zeros(d)
        self.plan_inv = self.Lam_inv.copy()
        self.beta_k = 0.0
        self.V = np.zeros(S)
        self.actions = np.full(S, -1, dtype=np.int64)
        self.replans, self.gains = 0, []

    def beta(self) -> float:
        return self.scale * (1 + self.B) / 2 * math.sqrt(
            self.d * math.log(1 + self.n / (self.lam * self.d)) + 2 * math.log(1 / self.delta))

    def _q(self, feats: np.ndarray) -> np.ndarray:
        bonus = np.sqrt(np.einsum("...i,ij,...j->...", feats, self.plan_inv, feats))
        return feats @ self.w + self.beta_k * bonus

    def act(self, s: int, info: dict) -> int:
        if not self.seen[s]:
            self.F[s], self.seen[s] = np.asarray(info["features"], dtype=np.float64), True
        if self.actions[s] < 0:
            self.actions[s] = int(self._q(self.F[s]).argmax())
        return int(self.actions[s])

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        if not self.seen[s2]:
            self.F[s2], self.seen[s2] = np.asarray(info["features"], dtype=np.float64), True
        phi = self.F[s, a]
        g = self.Lam_inv @ phi
        quad = float(phi @ g)
        self.Lam += np.outer(phi, phi)
        self.Lam_inv -= np.outer(g, g) / (1.0 + quad)
        self.logdet += math.log1p(quad)
        self.u += phi * r
        self.M[:, s2] += phi
        self.n += 1
        if self.logdet > self.logdet_k + math.log(2.0):
            return self._plan()
        return False

    def _plan(self, tol: float = 1e-6, max_iter: int = 20_000) -> bool:
        self.Lam_inv = np.linalg.inv(self.Lam)
        self.plan_inv, self.beta_k, self.logdet_k = self.Lam_inv, self.beta(), self.logdet
        idx = np.flatnonzero(self.seen)
        Fs, Ms = self.F[idx], self.M[:, idx]
        bonus = self.beta_k * np.sqrt(np.einsum("kai,ij,kaj->ka", Fs, self.Lam_inv, Fs))
        V = self.V[idx]
        base = self.Lam_inv @ self.u
        proj = self.Lam_inv @ Ms
        cap = 1 / (1 - self.gamma)
        # The next-state values are regressed after subtracting their minimum c (added back
        # exactly as gamma c): values are of order 1/(1 - gamma) but span at most B, and
        # the ridge term would otherwise shrink poorly explored directions towards 0.
        for _ in range(max_iter):
            c = V.min()
            w = base + self.gamma * (proj @ (V - c))
            v = np.minimum((Fs @ w + bonus).max(1) + self.gamma * c, cap)
            v = np.minimum(v, v.min() + self.B)
            done = np.max(np.abs(v - V)) < tol
            V = v
            if done:
                break
        self.w = base + self.gamma * (proj @ (V - V.min()))
        self.V[idx] = V
        old = self.actions[idx].copy()
        self.actions[:] = -1
        new = np.array([self.act(int(s), {}) for s in idx])
        self.replans += 1
        return bool(np.any((old >= 0) & (old != new)))

    def policy_table(self) -> np.ndarray | None:
        if not self.seen.all():
            return None
        return np.array([self.act(s, {}) for s in range(self.S)])


def run(config: Config) -> ContinuingRun:
    """Play one stream of `steps` steps; write the run folder (when `out` is set)."""
    def make(env, info, steps, rng):
        if "features" not in info:
            raise ValueError(f"lsvi-disc needs info['features'] from the env; {config.env} "
                             f"provides none (try tacsuite/LinearAMDP-v0)")
        d = int(np.asarray(info["features"]).shape[-1])
        return LSVIDiscounted(env.observation_space.n, env.action_space.n, d, steps,
                              config.discount, config.span, config.lam, config.bonus_scale,
                              config.delta)

    return run_continuing(config, "lsvi-disc", make)


def train(config: Config) -> dict:
    """Run discounted optimistic LSVI on one stream; write the run folder; return result."""
    return run(config).result
