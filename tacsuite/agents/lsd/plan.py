"""What every LSD planner returns, and the exact value of an action sequence."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from tacsuite.envs.lsd_instance import LSDInstance
from tacsuite.theory.lsd import LPSolution, lp_relaxation, sequence_rewards, upper_bound

# Peak bytes per round. plan: 293 measured with tracemalloc at T = 1e5 (action and payoff
# arrays, the Python lists the evaluation walks, the JSON text). learn: rewards, payoffs,
# actions, two regret columns and the planner curves on top, with the same overheads.
BYTES_PER_ROUND = {"plan": 320, "learn": 1000}
MEMORY_SHARE = 0.5  # of physical memory


def memory_limit() -> float:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return MEMORY_SHARE * total


def check_resources(instance: LSDInstance, what: str = "plan") -> None:
    """Refuse, before any work, a horizon whose arrays would not fit in memory."""
    need = float(instance.horizon) * BYTES_PER_ROUND[what]
    limit = memory_limit()
    if need > limit:
        raise ValueError(f"horizon {instance.horizon:.3g} needs about {need / 1e9:.3g} GB of "
                         f"memory for `lsd {what}` ({BYTES_PER_ROUND[what]} bytes per round), "
                         f"more than the {limit / 1e9:.3g} GB allowed (half of this "
                         f"machine's memory); use a horizon of at most "
                         f"{int(limit // BYTES_PER_ROUND[what]):,}")


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
