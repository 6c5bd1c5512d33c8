"""DR-LSVI-UCB (Liu & Xu, AISTATS 2024): online distributionally robust LSVI for d-rectangular
linear MDPs.

Trained in the nominal environment only, it plans against the worst case of every factor
inside a divergence ball of radius `rho` (TV by default, solved from the ridge estimates
by the sorted-breakpoint method; KL and chi-square by their duals), adds the
d-rectangular bonus `bonus_scale * sum_i phi_i sqrt((Lambda^-1)_ii)` and acts greedily.
With `rho = 0` it is LSVI-UCB with the chosen bonus.
"""

from __future__ import annotations

from dataclasses import dataclass

from tacsuite.agents.common.linear import LinearLearner
from tacsuite.agents.common.linear_config import RobustLinearConfig
from tacsuite.agents.common.linear_runs import train_linear


@dataclass
class Config(RobustLinearConfig):
    out: str = "runs/dr-lsvi-ucb"
    """Run folder (config.json, metrics.jsonl, result.json, returns.npy, policy.json)."""


def fit(config: Config) -> tuple[LinearLearner, dict]:
    return train_linear(config, "dr-lsvi-ucb",
                        dict(config.learner_options(), update="greedy"),
                        rho=config.rho, rho_mask=config.rho_mask,
                        track_suboptimality=config.track_suboptimality)


def train(config: Config) -> dict:
    """Train in the nominal environment; write the run folder; return result.json's dict."""
    return fit(config)[1]
