"""Shared pieces of the online LSD learners: per-(arm, state) estimates, the env loop,
and regret against the full-information planner and the exact optimum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import gymnasium as gym
import numpy as np

from tacsuite.agents.lsd import lp_rounding
from tacsuite.agents.lsd.plan import expected_rewards
from tacsuite.envs.lsd_instance import LSDInstance
from tacsuite.theory.lsd import (
    finite_horizon_optimum,
    lp_relaxation,
    mean_table,
    state_graph,
)


class Policy(Protocol):
    def act(self, t: int, state: np.ndarray) -> int: ...

    def update(self, t: int, arm: int, state: int, reward: float) -> None: ...


class StateEstimates:
    """Empirical means of every (arm, signed state), laid out like `mean_table`."""

    def __init__(self, k: int, M: int):
        self.M = M
        self.n = np.zeros((k, 2 * M + 1))
        self.total = np.zeros((k, 2 * M + 1))

    def add(self, arm: int, state: int, reward: float) -> None:
        self.n[arm, self.M + state] += 1
        self.total[arm, self.M + state] += reward

    def ucb(self, t: int, scale: float = 2.0, unseen: float = 1.0, cap: float | None = 1.0
            ) -> np.ndarray:
        """mean + sqrt(scale log t / n); `unseen` where n = 0; clipped at `cap`."""
        n = np.maximum(self.n, 1)
        idx = self.total / n + np.sqrt(scale * np.log(max(t, 2)) / n)
        idx = np.where(self.n > 0, idx, unseen)
        if cap is not None:
            idx = np.minimum(idx, cap)
        idx[:, self.M] = np.nan  # no state 0
        return idx


def monotone_envelope(idx: np.ndarray) -> np.ndarray:
    """Tighten upper confidence indices with monotonicity: an upper bound on satiated[c]
    is also one on satiated[c'] for c' > c, one on rested[m] bounds rested[m'] for m' < m,
    and every satiated value lies below every rested one."""
    M = (idx.shape[1] - 1) // 2
    sat = np.minimum.accumulate(idx[:, :M][:, ::-1], axis=1)  # c = 1..M
    res = np.minimum.accumulate(idx[:, M + 1:][:, ::-1], axis=1)[:, ::-1]  # m = 1..M
    sat = np.minimum(sat, res.min(axis=1, keepdims=True))
    out = idx.copy()
    out[:, :M] = sat[:, ::-1]
    out[:, M + 1:] = res
    return out


@dataclass(frozen=True)
class LearnResult:
    actions: np.ndarray  # (T,)
    rewards: np.ndarray  # (T,) realized rewards
    means: np.ndarray  # (T,) mean payoff of each action played (pseudo-reward)


def run(instance: LSDInstance, policy: Policy, seed: int) -> LearnResult:
    """Play `policy` for the instance's horizon in `tacsuite/LSDBandit-v0`."""
    env = gym.make("tacsuite/LSDBandit-v0", instance=instance)
    obs, _ = env.reset(seed=seed)
    T = instance.horizon
    actions, rewards, means = np.empty(T, np.int64), np.empty(T), np.empty(T)
    state = obs.astype(np.int64)
    for t in range(T):
        a = policy.act(t, state)
        obs, r, _, _, info = env.step(a)
        policy.update(t, a, int(state[a]), r)
        actions[t], rewards[t], means[t] = a, r, info["expected_reward"]
        state = obs.astype(np.int64)
    env.close()
    return LearnResult(actions, rewards, means)


def planner_curve(instance: LSDInstance, draws: int = 8, seed: int = 12345) -> np.ndarray:
    """Per-round expected payoff of the full-information lp-rounding planner (true means),
    averaged over `draws` independent roundings."""
    lp = lp_relaxation(instance.satiated, instance.rested)
    rng = np.random.default_rng(seed)
    return np.mean([expected_rewards(instance, lp_rounding.rounding_actions(instance, lp, rng))
                    for _ in range(draws)], axis=0)


def exact_curve(instance: LSDInstance, budget: float = 2e8) -> np.ndarray | None:
    """Per-round payoff of an exact optimal plan, or None when the DP is too large."""
    try:
        g = state_graph(instance.satiated, instance.rested, instance.initial_state,
                        max_states=50_000)
    except ValueError:
        return None
    if len(g.states) * instance.k * instance.horizon > budget:
        return None
    best = finite_horizon_optimum(instance.satiated, instance.rested, instance.initial_state,
                                  instance.horizon, graph=g)
    return expected_rewards(instance, best.actions)


def regret_columns(means: np.ndarray, planner: np.ndarray, exact: np.ndarray | None
                   ) -> np.ndarray:
    """(T, 2): cumulative pseudo-regret against the planner and the exact optimum (NaN
    when the exact optimum is not computable)."""
    out = np.full((means.size, 2), np.nan)
    out[:, 0] = np.cumsum(planner - means)
    if exact is not None:
        out[:, 1] = np.cumsum(exact - means)
    return out


def true_means(instance: LSDInstance) -> np.ndarray:
    return mean_table(instance.satiated, instance.rested)
