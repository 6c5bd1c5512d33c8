"""RiverSwim: the classic hard-exploration chain for average-reward learning."""

from __future__ import annotations

import numpy as np

from tacsuite.envs.tabular import TabularEnv
from tacsuite.envs.validation import check_int

# P is dense (S x 2 x S float64): 2,000 states is 64 MB, a size that still makes sense.
MAX_STATES = 2000


def river_swim_model(n_states: int = 6, small_reward: float = 0.005, large_reward: float = 1.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(P, R) of RiverSwim with `n_states` states; action 0 = left, 1 = right."""
    n = check_int("n_states", n_states, 2, MAX_STATES)
    P = np.zeros((n, 2, n))
    R = np.zeros((n, 2))
    for s in range(n):
        P[s, 0, max(s - 1, 0)] = 1.0
    P[0, 1, 0], P[0, 1, 1] = 0.6, 0.4
    for s in range(1, n - 1):
        P[s, 1, s + 1], P[s, 1, s], P[s, 1, s - 1] = 0.35, 0.6, 0.05
    P[n - 1, 1, n - 1], P[n - 1, 1, n - 2] = 0.6, 0.4
    R[0, 0] = small_reward
    R[n - 1, 1] = large_reward
    return P, R


class RiverSwimEnv(TabularEnv):
    """A river of n states where swimming upstream (right) pays off only at the far end.

    ## Description
    Strehl & Littman's RiverSwim chain, a standard hard-exploration test for
    average-reward (continuing) learning. Swimming left always succeeds and pays a small
    reward at the bank (state 0); swimming right fights the current and pays 1 only at the
    source (state n-1). A myopic learner settles for the small reward.

    ## Action Space
    `Discrete(2)`: 0 = swim left, 1 = swim right.

    ## Observation Space
    `Discrete(n_states)`: the index of the current state.

    ## Rewards
    0.005 for (state 0, left), 1.0 for (state n-1, right), 0 otherwise.

    ## Transitions
    Left moves to max(s-1, 0) with probability 1. Right: at 0 < s < n-1 moves right 0.35,
    stays 0.6, moves left 0.05; at s = 0 stays 0.6, moves right 0.4; at s = n-1 stays 0.6,
    moves left 0.4.

    ## Starting State
    State 0.

    ## Episode End
    Never terminates (a continuing task); the registered `TimeLimit` truncates after
    1,000 steps for episodic training loops.

    ## Arguments
    `gym.make("tacsuite/RiverSwim-v0", n_states=6)` (2 to 2,000 states). The unwrapped
    env exposes `P` (S x A x S) and `R` (S x A).

    ## Version History
    - v0: initial version.
    """

    def __init__(self, n_states: int = 6, render_mode: str | None = None):
        P, R = river_swim_model(n_states)
        initial = np.zeros(P.shape[0])
        initial[0] = 1.0
        super().__init__(P, R, initial, render_mode=render_mode)
