"""PanFlute: shift registers that pay only when every pipe is played in its timed order."""

from __future__ import annotations

import numpy as np

from tacsuite.envs.batched import BatchedDynamicsEnv
from tacsuite.envs.validation import check_flag, check_int


class PanFluteDynamics:
    """Batched transition function on observations; the env and the perfect model share it.

    Pipe `i` (0-based) is a shift register of length `i + 1` occupying the slice
    `[i (i+1)/2, (i+1)(i+2)/2)` of the observation, head first, tail last.
    """

    def __init__(self, num_pipes: int, spontaneous_probability: float):
        self.num_pipes = num_pipes
        self.spontaneous_probability = spontaneous_probability
        starts = np.array([i * (i + 1) // 2 for i in range(num_pipes)])
        self.heads = starts
        self.tails = starts + np.arange(num_pipes)
        self.obs_dim = num_pipes * (num_pipes + 1) // 2
        # next[j] = obs[source[j]]: every bit moves one place toward its tail; heads are
        # overwritten by the action below, so their source is irrelevant.
        self.source = np.maximum(np.arange(self.obs_dim) - 1, 0)

    def slices(self) -> list[slice]:
        return [slice(int(h), int(t) + 1) for h, t in zip(self.heads, self.tails, strict=True)]

    def reset(self, rng: np.random.Generator, batch: int = 1) -> np.ndarray:
        return np.zeros((batch, self.obs_dim), np.float32)

    def step(self, obs: np.ndarray, actions: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(next_obs, reward, terminated) for a batch; the reward reads the current tails."""
        obs = np.asarray(obs, np.float32)
        reward = np.all(obs[:, self.tails] > 0.5, axis=1).astype(np.float64)
        nxt = obs[:, self.source]
        nxt[:, self.heads] = np.arange(self.num_pipes)[None, :] == np.asarray(actions)[:, None]
        if self.spontaneous_probability > 0:
            lucky = rng.random(len(obs)) < self.spontaneous_probability
            if lucky.any():
                nxt[np.ix_(lucky, self.tails)] = 1.0
        return nxt, reward, np.zeros(len(obs), bool)


class PanFluteEnv(BatchedDynamicsEnv):
    """Shift registers of lengths 1..n that pay when the pipes are played in timed order.

    ## Description
    The PanFlute testbed of Young et al. ("The Benefits of Model-Based Generalization in
    Reinforcement Learning", ICML 2023): combinatorially many states, but each bit's next
    value depends on one bit or the action, so a factored model generalises where a value
    function fitted by replay does not. The state is `num_pipes` shift registers ("pipes")
    of lengths 1, 2, ..., n. Every step each register shifts by one place toward its tail;
    the played pipe gets a 1 at its head and every other pipe a 0.

    ## Action Space
    `Discrete(num_pipes)`: the pipe to play (pipe `i` has length `i + 1`).

    ## Observation Space
    `Box(0, 1, (n (n+1) / 2,), float32)` of 0/1 bits: the pipes concatenated, pipe 0
    first, each from head to tail (`unwrapped.dynamics.slices()`).

    ## Rewards
    1.0 on a step taken while every pipe's tail bit is set, else 0.0. A tail is set `i`
    steps after pipe `i` was played, so the pipes must be played in the order n-1, n-2,
    ..., 0 on consecutive steps; the step after that pays 1. The best policy repeats that
    order: reward 1 every n steps, plus the spontaneous rewards.

    ## Transitions
    Shift and play as above. With probability `1 / num_pipes**2` per step every tail bit is
    set spontaneously after the shift (so the next step pays 1), which makes the reward
    visible to an exploring agent.

    ## Starting State
    All bits 0.

    ## Episode End
    Never terminates (a continuing task); `gym.make` truncates it at 1000 steps, like
    `RiverSwim-v0` (pass `max_episode_steps=` to change that).

    ## Arguments
    `gym.make("tacsuite/PanFlute-v0", num_pipes=5, spontaneous=True)`.

    ## Version History
    - v0: initial version.
    """

    continuing = True  # read by the online agents to pick their evaluation score

    def __init__(self, num_pipes: int = 5, spontaneous: bool = True,
                 render_mode: str | None = None):
        num_pipes = check_int("num_pipes", num_pipes, 1, 16)
        spontaneous = check_flag("spontaneous", spontaneous)
        self.num_pipes = num_pipes
        self._set_render_mode(render_mode)
        self._set_dynamics(
            PanFluteDynamics(num_pipes, 1.0 / num_pipes**2 if spontaneous else 0.0), num_pipes)

    @property
    def pipes(self) -> list[np.ndarray]:
        """The registers as 0/1 int arrays, head first."""
        return [self._obs[0, s].astype(np.int64) for s in self.dynamics.slices()]

    @property
    def rewarding_order(self) -> tuple[int, ...]:
        """Pipes to play on consecutive steps so that the step after pays 1."""
        return tuple(range(self.num_pipes - 1, -1, -1))

    def _render_rgb(self) -> np.ndarray:
        n, scale = self.num_pipes, 12
        img = np.full((n, n, 3), 235, np.uint8)
        for i, bits in enumerate(self.pipes):
            img[i, : i + 1] = np.where(bits[:, None] > 0, (200, 40, 40), (120, 120, 120))
        return np.kron(img, np.ones((scale, scale, 1), np.uint8))
