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
    rho: float = 0.1
    """Uncertainty radius (penalty weight sigma with --penalised); 0 = non-robust."""
    rho_mask: Literal["env", "all"] = "env"
    """Factors the radius applies to: the env's declared `uncertain` mask, or all (h, i)."""
    divergence: Literal["tv", "kl", "chi2"] = "tv"
    """Divergence of the per-factor uncertainty set."""
    penalised: bool = False
    """Penalise the adversary by rho * D instead of constraining D <= rho (RRMDP)."""
    seed: int = 0
    """Seed of the environment and of the agent's action draws."""
    out: str = "runs/dr-lsvi-ucb"
    """Run folder (config.json, metrics.jsonl, result.json, returns.npy, policy.json)."""
    lam: float = 0.1
    """Ridge regularisation lambda."""
    bonus_scale: float = 1.0
    """Bonus multiplier beta_b (0 disables optimism)."""
    bonus: Literal["d-rect", "elliptical"] = "d-rect"
    """Bonus shape: sum_i phi_i sqrt((Lambda^-1)_ii) (d-rectangular) or ||phi||_{Lambda^-1}."""
    v_min: float = 0.0
    """Smallest value a next state can have (0: the env has a zero-value fail state)."""
    track_suboptimality: bool = False
    """Record the exact robust suboptimality of every episode's policy (finite-state envs)."""


def fit(config: Config) -> tuple[LinearLearner, dict]:
    return train_linear(config, "dr-lsvi-ucb",
                        dict(lam=config.lam, bonus_kind=config.bonus,
                             bonus_scale=config.bonus_scale, divergence=config.divergence,
                             penalised=config.penalised, v_min=config.v_min,
                             update="greedy"),
                        rho=config.rho, rho_mask=config.rho_mask,
                        track_suboptimality=config.track_suboptimality)


def train(config: Config) -> dict:
    """Train in the nominal environment; write the run folder; return result.json's dict."""
    return fit(config)[1]
