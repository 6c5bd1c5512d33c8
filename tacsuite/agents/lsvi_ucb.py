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
from tacsuite.agents.common.linear_runs import train_linear


@dataclass
class Config:
    env: str = "tacsuite/SimulatedLinearMDP-v0"
    """Environment id: episodic, Discrete actions, info["features"] = phi(s, .)."""
    env_kwargs: str = ""
    """Keyword arguments for gym.make, as k=v,k2=v2 (values read as Python literals)."""
    episodes: int = 1000
    """Number of training episodes K."""
    rho: float = 0.0
    """Radius of the uncertainty set the exact oracle scores the policy against (LSVI-UCB
    itself plans against the nominal model)."""
    rho_mask: Literal["env", "all"] = "env"
    """Factors that radius applies to: the env's declared `uncertain` mask, or all (h, i)."""
    seed: int = 0
    """Seed of the environment and of the agent's action draws."""
    out: str = "runs/lsvi-ucb"
    """Run folder (config.json, metrics.jsonl, result.json, returns.npy, policy.json)."""
    lam: float = 0.1
    """Ridge regularisation lambda."""
    bonus_scale: float = 1.0
    """Bonus multiplier beta_b (0 disables optimism)."""
    bonus: Literal["elliptical", "d-rect"] = "elliptical"
    """Bonus shape: ||phi||_{Lambda^-1} (Jin et al.) or sum_i phi_i sqrt((Lambda^-1)_ii)."""
    track_suboptimality: bool = False
    """Record the exact suboptimality of every episode's policy (finite-state envs)."""


def fit(config: Config) -> tuple[LinearLearner, dict]:
    return train_linear(config, "lsvi-ucb",
                        dict(lam=config.lam, bonus_kind=config.bonus,
                             bonus_scale=config.bonus_scale, update="greedy"),
                        rho=config.rho, rho_mask=config.rho_mask, plan_robust=False,
                        track_suboptimality=config.track_suboptimality)


def train(config: Config) -> dict:
    """Train in the nominal environment; write the run folder; return result.json's dict."""
    return fit(config)[1]
