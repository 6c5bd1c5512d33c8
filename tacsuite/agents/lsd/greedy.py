"""Oracle Greedy (Laforgue et al., AISTATS 2022): play the arm whose mean is highest now.

Ties go to the lowest index, so the plan is deterministic. Greedy is myopic: it keeps a
satiated arm whose current payoff beats the others even when resting it would pay far more
later (`laforgue_instances()["figure4"]` is the classic failure).
"""

from __future__ import annotations

import numpy as np

from tacsuite.agents.lsd.plan import Plan, lp_bound, make_plan
from tacsuite.envs.lsd_instance import LSDInstance
from tacsuite.theory.lsd import mean_table, next_state


def greedy_actions(mu: np.ndarray, initial_state, horizon: int) -> np.ndarray:
    k = mu.shape[0]
    M = (mu.shape[1] - 1) // 2
    arms = np.arange(k)
    state = np.asarray(initial_state, dtype=np.int64)
    acts = np.empty(int(horizon), dtype=np.int64)
    for t in range(int(horizon)):
        a = int(np.argmax(mu[arms, M + state]))
        acts[t] = a
        state = next_state(state, a, M)
    return acts


def plan(instance: LSDInstance, seed: int = 0) -> Plan:
    """The greedy sequence; `seed` is unused (greedy is deterministic)."""
    mu = mean_table(instance.satiated, instance.rested)
    return make_plan(instance, greedy_actions(mu, instance.initial_state, instance.horizon),
                     lp_bound(instance))
