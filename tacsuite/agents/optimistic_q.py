"""Optimistic discounted Q-learning for average reward (Wei, Jafarnia-Jahromi, Luo,
Sharma & Jain, ICML 2020, Algorithm 1).

A model-free baseline: approximate the AMDP by a discounted one with gamma = 1 - 1/H,
run Q-learning with the learning rate alpha_tau = (H + 1) / (H + tau) and a UCB bonus
b_tau = bonus_scale * sqrt(H log(S A T / delta) / tau) (tau = visits of the pair), keep
the running minimum Q^ of the optimistic estimates and act greedily on it. The paper's
bonus constant is 4 sp(v*), unknown to a learner; `bonus_scale` stands in for it, and
H defaults to the paper's order (T / (S A))^(1/3). The greedy policy can change after
any step, which is what the switch count of this baseline measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tacsuite.agents.common.continuing import (
    ContinuingConfig,
    ContinuingRun,
    PolicyTableLearner,
    run_continuing,
    summary,  # noqa: F401 (the CLI line)
)


@dataclass
class Config(ContinuingConfig):
    out: str = "runs/optimistic-q"
    horizon: float = 0.0
    """Effective horizon H, gamma = 1 - 1/H; 0 picks (T / (S A))^(1/3)."""
    bonus_scale: float = 1.0
    """Bonus multiplier (the paper's 4 sp(v*))."""
    delta: float = 0.05
    """Confidence level delta in the bonus."""


class OptimisticQ(PolicyTableLearner):
    def __init__(self, S: int, A: int, steps: int, horizon: float, bonus_scale: float,
                 delta: float):
        if horizon < 0 or bonus_scale < 0 or not 0 < delta < 1:
            raise ValueError(f"need horizon >= 0, bonus_scale >= 0, 0 < delta < 1; got "
                             f"{horizon}, {bonus_scale}, {delta}")
        H = horizon if horizon > 0 else max(2.0, (steps / (S * A)) ** (1 / 3))
        if H < 1:
            raise ValueError(f"horizon must be >= 1, got {H}")
        self.H, self.gamma = H, 1 - 1 / H
        self.bonus = bonus_scale * math.sqrt(H * math.log(S * A * steps / delta))
        self.Q = np.full((S, A), H)
        self.Q_hat = np.full((S, A), H)
        self.V_hat = np.full(S, H)
        self.n = np.zeros((S, A))
        self.policy = np.zeros(S, dtype=np.int64)
        self.replans, self.gains = 0, []

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        self.n[s, a] += 1
        tau = self.n[s, a]
        alpha = (self.H + 1) / (self.H + tau)
        target = r + self.gamma * self.V_hat[s2] + self.bonus / math.sqrt(tau)
        self.Q[s, a] = (1 - alpha) * self.Q[s, a] + alpha * target
        if self.Q[s, a] < self.Q_hat[s, a]:
            self.Q_hat[s, a] = self.Q[s, a]
            best = int(self.Q_hat[s].argmax())
            self.V_hat[s] = self.Q_hat[s, best]
            if best != self.policy[s]:
                self.policy[s] = best
                self.replans += 1
                return True
        return False


def run(config: Config) -> ContinuingRun:
    """Play one stream of `steps` steps; write the run folder (when `out` is set)."""
    def make(env, info, steps, rng):
        return OptimisticQ(env.observation_space.n, env.action_space.n, steps, config.horizon,
                           config.bonus_scale, config.delta)

    return run_continuing(config, "optimistic-q", make)


def train(config: Config) -> dict:
    """Run optimistic Q-learning on one stream; write the run folder; return result.json."""
    return run(config).result
