"""Gymnasium's FrozenLake and Taxi turned continuing: a terminal transition restarts.

The outcome tables come from Gymnasium's own `P` dictionaries (prob, next, reward, done).
A `done` outcome sends the agent to a start state drawn from the original initial
distribution inside the same step and keeps the original reward, so the task is one
infinite stream; `P` and `R` below are that continuing chain and its mean rewards.
"""

from __future__ import annotations

import numpy as np

from tacsuite.envs.tabular import TabularEnv
from tacsuite.envs.validation import check_action, check_flag


def continuing_tables(outcomes: dict, initial: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """(P, R, (probs, nexts, rewards, dones)) from a toy-text outcome dictionary."""
    S = len(outcomes)
    A = len(outcomes[0])
    K = max(len(v) for d in outcomes.values() for v in d.values())
    probs, rewards = np.zeros((S, A, K)), np.zeros((S, A, K))
    nexts, dones = np.zeros((S, A, K), np.int64), np.zeros((S, A, K), bool)
    for s in range(S):
        for a in range(A):
            for k, (p, s2, r, done) in enumerate(outcomes[s][a]):
                probs[s, a, k], nexts[s, a, k] = p, s2
                rewards[s, a, k], dones[s, a, k] = r, done
    probs /= probs.sum(2, keepdims=True)
    P = np.zeros((S, A, S))
    for k in range(K):
        live = probs[:, :, k] * ~dones[:, :, k]
        np.add.at(P, (np.arange(S)[:, None], np.arange(A)[None, :], nexts[:, :, k]), live)
        P += (probs[:, :, k] * dones[:, :, k])[:, :, None] * initial[None, None, :]
    R = (probs * rewards).sum(2)
    return P, R, (probs, nexts, rewards, dones)


class _ContinuingToyText(TabularEnv):
    def _build(self, base, render_mode):
        initial = np.asarray(base.initial_state_distrib, dtype=np.float64)
        initial = initial / initial.sum()
        P, R, tables = continuing_tables(base.P, initial)
        super().__init__(P, R, initial, render_mode=render_mode)
        self._probs, self._nexts, self._rewards, self._dones = tables
        self._out_cdf = np.cumsum(self._probs, axis=2)
        self._init_cdf = np.cumsum(initial)

    def step(self, action):
        a = check_action(self.action_space, action)
        s = self.state
        k = self._draw(self._out_cdf[s, a])
        reward = float(self._rewards[s, a, k])
        restarted = bool(self._dones[s, a, k])
        self.state = self._draw(self._init_cdf) if restarted else int(self._nexts[s, a, k])
        return np.int64(self.state), reward, False, False, {
            "expected_reward": float(self.R[s, a]), "restarted": restarted}

    def _render_ansi(self) -> str:
        return f"state {self.state}"


class ContinuingFrozenLakeEnv(_ContinuingToyText):
    """Gymnasium's FrozenLake made continuing: falling in a hole or reaching the goal restarts.

    ## Description
    The FrozenLake grid (4x4 or 8x8, slippery by default) as a continuing task: any
    transition that ends the original episode (into a hole or the goal) instead moves the
    agent back to the start cell within the same step. The optimal average reward is the
    long-run rate of reaching the goal.

    ## Action Space
    `Discrete(4)`: 0 left, 1 down, 2 right, 3 up (as in FrozenLake).

    ## Observation Space
    `Discrete(n_cells)`: row * ncol + col of the agent.

    ## Rewards
    The original reward: 1 for the step that reaches the goal, 0 otherwise.

    ## Starting State
    The start cell (FrozenLake's initial distribution).

    ## Episode End
    Never terminates; `info["restarted"]` marks a step that went back to the start. The
    registered `TimeLimit` truncates after 1,000 steps for episodic loops.

    ## Arguments
    `gym.make("tacsuite/ContinuingFrozenLake-v0", map_name="4x4", is_slippery=True)`.
    The unwrapped env exposes the continuing chain's `P` and `R`.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, map_name: str = "4x4", is_slippery: bool = True,
                 render_mode: str | None = None):
        from gymnasium.envs.toy_text.frozen_lake import MAPS, FrozenLakeEnv

        if map_name not in MAPS:
            raise ValueError(f"map_name {map_name!r} is not one of {sorted(MAPS)}")
        is_slippery = check_flag("is_slippery", is_slippery)
        self._build(FrozenLakeEnv(map_name=map_name, is_slippery=is_slippery), render_mode)
        self.reward_bounds = (0.0, 1.0)


class ContinuingTaxiEnv(_ContinuingToyText):
    """Gymnasium's Taxi made continuing: a successful drop-off starts a new ride at once.

    ## Description
    The 5x5 Taxi world (500 states) as a continuing task: the drop-off that ends the
    original episode instead draws a new taxi position, passenger and destination from
    Taxi's initial distribution within the same step. The optimal average reward is the
    long-run reward rate of serving rides.

    ## Action Space
    `Discrete(6)`: south, north, east, west, pick up, drop off (as in Taxi).

    ## Observation Space
    `Discrete(500)`: Taxi's encoded (row, col, passenger, destination).

    ## Rewards
    The original rewards: -1 per step, +20 for a successful drop-off, -10 for an illegal
    pick-up or drop-off (`reward_bounds` = (-10, 20); learners rescale to [0, 1]).

    ## Starting State
    Drawn from Taxi's initial distribution (300 states).

    ## Episode End
    Never terminates; `info["restarted"]` marks a step that began a new ride. The
    registered `TimeLimit` truncates after 1,000 steps for episodic loops.

    ## Arguments
    `gym.make("tacsuite/ContinuingTaxi-v0")`. The unwrapped env exposes `P` and `R`.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, render_mode: str | None = None):
        from gymnasium.envs.toy_text.taxi import TaxiEnv

        self._build(TaxiEnv(), render_mode)
        self.reward_bounds = (-10.0, 20.0)
