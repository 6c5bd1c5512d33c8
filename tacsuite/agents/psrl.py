"""PSRL for average reward (TSDE; Ouyang, Gagrani, Nayyar & Jain, NeurIPS 2017).

Posterior sampling with a Dirichlet(prior / S + counts) posterior on every transition row
and a Gaussian posterior on every mean reward (prior N(1/2, 1), reward noise variance
1/4, the largest a [0, 1] reward can have). At the start of an episode the learner draws
one model, plays its gain-optimal policy (relative value iteration), and starts a new
episode when the episode has lasted longer than the previous one or the visits of some
pair have doubled since the episode began (TSDE's two stopping rules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tacsuite.agents.common.amdp_planning import relative_value_iteration
from tacsuite.agents.common.continuing import (
    ContinuingConfig,
    ContinuingRun,
    PolicyTableLearner,
    run_continuing,
    summary,  # noqa: F401 (the CLI line)
)
from tacsuite.agents.common.tabular_stats import TabularCounts


@dataclass
class Config(ContinuingConfig):
    out: str = "runs/psrl"
    prior: float = 1.0
    """Total Dirichlet prior mass of each transition row (spread evenly over the states)."""
    aperiodicity: float = 0.5
    """tau of the aperiodic transform used by relative value iteration."""


class PSRL(PolicyTableLearner):
    def __init__(self, S: int, A: int, prior: float, tau: float, rng: np.random.Generator):
        if not prior > 0:
            raise ValueError(f"prior must be > 0, got {prior}")
        self.S, self.A, self.alpha, self.tau, self.rng = S, A, prior / S, tau, rng
        self.counts = TabularCounts(S, A)
        self.policy = np.zeros(S, dtype=np.int64)
        self.bias: np.ndarray | None = None
        self.start, self.last_length = 0, 0
        self.replans, self.gains = 0, []
        self._plan(0)

    def _plan(self, t: int) -> bool:
        c = self.counts
        P = self.rng.gamma(self.alpha + c.N)
        P /= P.sum(2, keepdims=True)
        precision = 1.0 + 4.0 * c.n
        mean = (0.5 + 4.0 * c.r_sum) / precision
        R = np.clip(mean + self.rng.standard_normal(mean.shape) / np.sqrt(precision), 0, 1)
        plan = relative_value_iteration(P, R, eps=1 / math.sqrt(max(t, 1)), tau=self.tau,
                                        v0=self.bias)
        self.bias = plan.bias
        self.n_start = c.n.copy()
        self.last_length, self.start = t - self.start, t
        return self.adopt(plan)

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        self.counts.add(s, a, r, s2)
        if t - self.start > self.last_length or \
                self.counts.n[s, a] > 2 * max(self.n_start[s, a], 0.5):
            return self._plan(t)
        return False


def run(config: Config) -> ContinuingRun:
    """Play one stream of `steps` steps; write the run folder (when `out` is set)."""
    def make(env, info, steps, rng):
        return PSRL(env.observation_space.n, env.action_space.n, config.prior,
                    config.aperiodicity, rng)

    return run_continuing(config, "psrl", make)


def train(config: Config) -> dict:
    """Run PSRL on one stream of `steps` steps; write the run folder; return result.json."""
    return run(config).result
