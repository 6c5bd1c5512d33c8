"""What every LSD planner returns, and the exact value of an action sequence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacsuite.envs.lsd_instance import LSDInstance
from tacsuite.theory.lsd import LPSolution, lp_relaxation, sequence_rewards, upper_bound


@dataclass(frozen=True)
class Plan:
    actions: np.ndarray  # (T,) arm per round
    expected_reward: float  # sum of the mean payoffs of `actions`
    upper_bound: float | None  # (T + B) * LP, the relaxation's bound on the optimum

    def to_json(self) -> dict:
        return {"actions": [int(a) for a in self.actions],
                "expected_reward": float(self.expected_reward),
                "upper_bound": None if self.upper_bound is None else float(self.upper_bound)}


def expected_rewards(instance: LSDInstance, actions) -> np.ndarray:
    """Mean payoff of every round of `actions` on `instance`."""
    return sequence_rewards(instance.satiated, instance.rested, instance.initial_state, actions)


def lp_bound(instance: LSDInstance, lp: LPSolution | None = None) -> float:
    lp = lp if lp is not None else lp_relaxation(instance.satiated, instance.rested)
    return upper_bound(instance.satiated, instance.rested, instance.initial_state,
                       instance.horizon, lp=lp)


def make_plan(instance: LSDInstance, actions, bound: float | None) -> Plan:
    acts = np.asarray(actions, dtype=np.int64)
    return Plan(acts, float(expected_rewards(instance, acts).sum()), bound)
