"""The (1 - 1/e) recharging planner for delay-only instances (Papadigenopoulos, Caramanis
and Shakkottai, NeurIPS 2022, in spirit): solve the delay LP, give each arm a virtual
"pull every d rounds" schedule with probability x[i, d], and resolve conflicts at random.

In the LSD form of a delay-only instance every cycle has a single play (l = 1, gap d - 1)
and "always" is delay 1, so this is `lp_rounding` restricted to single-play cycles; that
restricted LP equals the recharging LP (`theory.lsd.recharging_lp`) and, because satiated
payoffs are constant, the full cycle LP. Non-decreasing delay payoffs make the instance
monotone, so the mirroring argument of `lp_rounding` gives the (1 - 1/e) factor. The
interleaved scheduling of the paper is replaced by random conflict resolution.
"""

from __future__ import annotations

from tacsuite.agents.lsd import lp_rounding
from tacsuite.agents.lsd.plan import Plan
from tacsuite.envs.lsd_instance import LSDInstance


def plan(instance: LSDInstance, seed: int = 0, samples: int = 1, conflict: str = "random"
         ) -> Plan:
    if not instance.is_delay_only:
        raise ValueError("the recharging planner needs a delay-only instance (constant "
                         "satiated payoffs per arm); use --planner lp-rounding instead")
    return lp_rounding.plan(instance, seed=seed, samples=samples, conflict=conflict,
                            runs=False)
