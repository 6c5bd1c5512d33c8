"""Planners and online learners for last-switch-dependent (LSD) bandits.

Planners map an `LSDInstance` with known means to a `Plan`; learners play
`tacsuite/LSDBandit-v0` without knowing the means.
"""

PLANNERS: dict[str, str] = {
    "exact": "tacsuite.agents.lsd.exact",
    "lp-rounding": "tacsuite.agents.lsd.lp_rounding",
    "greedy": "tacsuite.agents.lsd.greedy",
    "recharging": "tacsuite.agents.lsd.recharging",
}

LEARNERS: dict[str, str] = {
    "lp-ucb": "tacsuite.agents.lsd.lp_ucb",
    "isi-combucb1": "tacsuite.agents.lsd.isi_combucb1",
    "combucb1": "tacsuite.agents.lsd.combucb1",
    "ucb1": "tacsuite.agents.lsd.ucb1",
}


def planner(name: str):
    """The module of planner `name` (its `plan(instance, seed)` makes a `Plan`)."""
    import importlib

    if name not in PLANNERS:
        raise ValueError(f"unknown planner {name!r}; choose from {sorted(PLANNERS)}")
    return importlib.import_module(PLANNERS[name])
