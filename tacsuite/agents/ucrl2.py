"""UCRL2 (Jaksch, Ortner & Auer, JMLR 2010): optimism in the face of uncertainty for AMDPs.

Textbook version: at the start of episode k (time t_k) build the L1 confidence set
||P(.|s,a) - P^(.|s,a)||_1 <= sqrt(14 S log(2 A t_k / delta) / max(1, N_k(s,a))) and
reward intervals of half-width sqrt(7 log(2 S A t_k / delta) / (2 max(1, N_k(s,a)))),
solve for the optimistic model and policy by extended value iteration to accuracy
1/sqrt(t_k), and play that policy until the visits nu_k(s,a) of some pair in the episode
reach max(1, N_k(s,a)) (the doubling rule). These original widths are known to explore
slowly on RiverSwim; `width_scale` < 1 shrinks them for comparisons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tacsuite.agents.common.amdp_planning import extended_value_iteration
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
    out: str = "runs/ucrl2"
    delta: float = 0.05
    """Confidence level delta of the confidence sets."""
    width_scale: float = 1.0
    """Multiplier on the textbook confidence widths (1 = Jaksch et al. 2010)."""
    aperiodicity: float = 0.5
    """tau of the aperiodic transform used by extended value iteration."""


class UCRL2(PolicyTableLearner):
    def __init__(self, S: int, A: int, delta: float, width_scale: float, tau: float):
        if not 0 < delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        if not width_scale > 0:
            raise ValueError(f"width_scale must be > 0, got {width_scale}")
        self.S, self.A, self.delta, self.scale, self.tau = S, A, delta, width_scale, tau
        self.counts = TabularCounts(S, A)
        self.nu = np.zeros((S, A))
        self.n_k = np.zeros((S, A))
        self.policy = np.zeros(S, dtype=np.int64)
        self.bias: np.ndarray | None = None
        self.replans, self.gains = 0, []
        self._plan(1)

    def _plan(self, t: int) -> bool:
        c, S, A = self.counts, self.S, self.A
        n = np.maximum(c.n, 1)
        w_p = self.scale * np.sqrt(14 * S * math.log(2 * A * t / self.delta) / n)
        w_r = self.scale * np.sqrt(7 * math.log(2 * S * A * t / self.delta) / (2 * n))
        r_up = np.minimum(c.r_hat() + w_r, 1.0)
        plan = extended_value_iteration(c.p_hat(), r_up, w_p, eps=1 / math.sqrt(t),
                                        tau=self.tau, v0=self.bias)
        self.bias = plan.bias
        self.n_k = c.n.copy()
        self.nu[:] = 0
        return self.adopt(plan)

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        self.counts.add(s, a, r, s2)
        self.nu[s, a] += 1
        if self.nu[s, a] >= max(1.0, self.n_k[s, a]):
            return self._plan(t)
        return False


def run(config: Config) -> ContinuingRun:
    """Play one stream of `steps` steps; write the run folder (when `out` is set)."""
    def make(env, info, steps, rng):
        return UCRL2(env.observation_space.n, env.action_space.n, config.delta,
                     config.width_scale, config.aperiodicity)

    return run_continuing(config, "ucrl2", make)


def train(config: Config) -> dict:
    """Run UCRL2 on one stream of `steps` steps; write the run folder; return result.json."""
    return run(config).result
