"""The exact planner: backward DP over the joint state (small k and tau_max only)."""

from __future__ import annotations

from tacsuite.agents.lsd.plan import Plan, lp_bound, make_plan
from tacsuite.envs.lsd_instance import LSDInstance
from tacsuite.theory.lsd import finite_horizon_optimum


def plan(instance: LSDInstance, seed: int = 0) -> Plan:
    """An optimal action sequence; `seed` is unused (the DP is deterministic)."""
    best = finite_horizon_optimum(instance.satiated, instance.rested, instance.initial_state,
                                  instance.horizon)
    return make_plan(instance, best.actions, lp_bound(instance))
