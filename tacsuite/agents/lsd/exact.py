"""The exact planner: backward DP over the joint state (small k and tau_max only)."""

from __future__ import annotations

from tacsuite.agents.lsd.plan import Plan, lp_bound, make_plan
from tacsuite.envs.lsd_instance import LSDInstance
from tacsuite.theory.lsd import finite_horizon_optimum, state_graph

MAX_WORK = 3e9  # states x arms x rounds; about ten minutes of numpy on one core


def plan(instance: LSDInstance, seed: int = 0) -> Plan:
    """An optimal action sequence; `seed` is unused (the DP is deterministic)."""
    g = state_graph(instance.satiated, instance.rested, instance.initial_state)
    work = len(g.states) * instance.k * instance.horizon
    if work > MAX_WORK:
        raise ValueError(f"the exact DP needs {len(g.states)} joint states x {instance.k} arms "
                         f"x {instance.horizon} rounds = {work:.2g} steps (limit {MAX_WORK:.0g}); "
                         f"use --planner lp-rounding")
    best = finite_horizon_optimum(instance.satiated, instance.rested, instance.initial_state,
                                  instance.horizon, graph=g)
    return make_plan(instance, best.actions, lp_bound(instance))
