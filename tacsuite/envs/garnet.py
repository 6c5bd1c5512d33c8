"""Random "Garnet" average-reward MDPs, communicating by construction."""

from __future__ import annotations

import numpy as np

from tacsuite.envs.tabular import TabularEnv
from tacsuite.envs.validation import check_int

# P is dense (S x A x S float64): these caps keep it under about 3 GB.
MAX_STATES, MAX_ACTIONS = 2000, 100


def garnet_model(n_states: int = 10, n_actions: int = 3, branching: int = 3,
                 instance_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(P, R) of a Garnet(S, A, b) instance.

    Each (s, a) moves to `branching` distinct states with Dirichlet(1) probabilities and
    pays a mean reward drawn uniformly from [0, 1]. Action 0 of state s always includes
    (s + 1) mod S in its support, so the ring 0 -> 1 -> ... -> S-1 -> 0 is reachable and
    every state reaches every other: the MDP is communicating whatever the draw.
    """
    S = check_int("n_states", n_states, 2, MAX_STATES)
    A = check_int("n_actions", n_actions, 1, MAX_ACTIONS)
    b = check_int("branching", branching, 1)
    if b > S:
        raise ValueError(f"branching must be in [1, n_states={S}], got {b}")
    seed = check_int("instance_seed", instance_seed, 0)
    rng = np.random.default_rng(seed)
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            if a == 0:
                others = np.delete(np.arange(S), (s + 1) % S)
                support = np.concatenate([[(s + 1) % S], rng.choice(others, b - 1,
                                                                      replace=False)])
            else:
                support = rng.choice(S, b, replace=False)
            P[s, a, support] = rng.dirichlet(np.ones(b))
    R = rng.random((S, A))
    return P, R


class RandomAMDPEnv(TabularEnv):
    """A random Garnet MDP for average-reward learning (communicating by construction).

    ## Description
    Garnet(S, A, b) instances (Archibald et al. 1995; Bhatnagar et al. 2009): every
    state-action pair has `branching` random successors with Dirichlet(1) weights and a
    uniform [0, 1] mean reward. Action 0 of state s always reaches (s + 1) mod S, so the
    instance is communicating (finite diameter) and its optimal gain is state-independent.

    ## Action Space
    `Discrete(n_actions)`.

    ## Observation Space
    `Discrete(n_states)`: the index of the current state.

    ## Rewards
    The mean reward R[s, a] in [0, 1] (deterministic given (s, a)).

    ## Starting State
    State 0.

    ## Episode End
    Never terminates (a continuing task); the registered `TimeLimit` truncates after
    1,000 steps for episodic loops. The average-reward learners ignore that truncation.

    ## Arguments
    `gym.make("tacsuite/RandomAMDP-v0", n_states=10, n_actions=3, branching=3,
    instance_seed=0)`. The instance depends only on `instance_seed`; `reset(seed=...)`
    seeds the transitions sampled from it. The unwrapped env exposes `P` and `R`.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, n_states: int = 10, n_actions: int = 3, branching: int = 3,
                 instance_seed: int = 0, render_mode: str | None = None):
        P, R = garnet_model(n_states, n_actions, branching, instance_seed)
        super().__init__(P, R, np.eye(P.shape[0])[0], render_mode=render_mode)
        self.reward_bounds = (0.0, 1.0)
