"""Options the linear-MDP agents share; each agent's `Config` extends one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from tacsuite.common.validate import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Interval


@dataclass
class LinearConfig:
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
    seed: int = 0
    """Seed of the environment and of the agent's action draws."""
    out: str = "runs/linear"
    """Run folder (config.json, metrics.jsonl, result.json, returns.npy, policy.json)."""
    lam: float = 0.1
    """Ridge regularisation lambda."""
    bonus_scale: float = 1.0
    """Bonus multiplier beta_b (0 disables optimism)."""
    track_suboptimality: bool = False
    """Record the exact (robust) suboptimality of every episode's policy (finite-state envs)."""
    overwrite: bool = False
    """Clear --out first when it holds an earlier run."""
    resume: bool = False
    """Continue the run in --out from its last checkpoint up to --episodes (same options)."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        "episodes": AT_LEAST_ONE, "rho": NON_NEGATIVE, "seed": NON_NEGATIVE,
        "lam": POSITIVE, "bonus_scale": NON_NEGATIVE, "beta": POSITIVE, "eta": POSITIVE}


@dataclass
class RobustLinearConfig(LinearConfig):
    divergence: Literal["tv", "kl", "chi2"] = "tv"
    """Divergence of the per-factor uncertainty set."""
    penalised: bool = False
    """Penalise the adversary by rho * D instead of constraining D <= rho (RRMDP)."""
    bonus: Literal["d-rect", "elliptical"] = "d-rect"
    """Bonus shape: sum_i phi_i sqrt((Lambda^-1)_ii) (d-rectangular) or ||phi||_{Lambda^-1}."""
    v_min: float = 0.0
    """Smallest value a next state can have (0: the env has a zero-value fail state)."""

    def learner_options(self) -> dict:
        return dict(lam=self.lam, bonus_kind=self.bonus, bonus_scale=self.bonus_scale,
                    divergence=self.divergence, penalised=self.penalised, v_min=self.v_min)
