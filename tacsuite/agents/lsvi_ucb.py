"""LSVI-UCB (Jin, Yang, Wang & Jordan, COLT 2020): optimistic least-squares value iteration.

The non-robust baseline for linear MDPs: at every episode, regress r + max_a Q_{h+1}(s', a)
on phi(s, a) step by step backwards (ridge, weight `lam`), add the bonus
`bonus_scale * ||phi||_{Lambda^{-1}}` and act greedily on the optimistic Q, clipped at the
largest achievable return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tacsuite.agents.common.linear import LinearLearner
from tacsuite.agents.common.linear_config import LinearConfig
from tacsuite.agents.common.linear_runs import train_linear


@dataclass
class Config(LinearConfig):
    rho: float = 0.0
    """Radius of the uncertainty set the exact oracle scores the policy against (LSVI-UCB
    itself plans against the nominal model)."""
    out: str = "runs/lsvi-ucb"
    """Run folder (config.json, metrics.jsonl, result.json, returns.npy, policy.json)."""
    bonus: Literal["elliptical", "d-rect"] = "elliptical"
    """Bonus shape: ||phi||_{Lambda^-1} (Jin et al.) or sum_i phi_i sqrt((Lambda^-1)_ii)."""


def fit(config: Config) -> tuple[LinearLearner, dict]:
    return train_linear(config, "lsvi-ucb",
                        dict(lam=config.lam, bonus_kind=config.bonus,
                             bonus_scale=config.bonus_scale, update="greedy"),
                        rho=config.rho, rho_mask=config.rho_mask, plan_robust=False,
                        track_suboptimality=config.track_suboptimality)


def train(config: Config) -> dict:
    """Train in the nominal environment; write the run folder; return result.json's dict."""
    return fit(config)[1]
