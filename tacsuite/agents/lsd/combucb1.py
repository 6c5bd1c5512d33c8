"""CombUCB1 on blocks of d rounds: the vanilla combinatorial semi-bandit baseline of
Laforgue et al. (AISTATS 2022), after Kveton et al. (2015).

Each block of d rounds is one combinatorial round whose base arms are (arm, state)
pairs, every play of the block included: a play whose state is not fixed by the block
itself (an arm's first play, the continuation of a run from the previous block) is
scored with the state it will have given the states at the block's start. The block
maximising the sum of the UCB indices of its plays is played, and every play updates the
estimate of its base arm. States beyond d are lumped into state d, which is what makes
this baseline weak on instances where long rests pay. Choices as in `isi_combucb1`
(delay states on delay-only instances, index mean + sqrt(1.5 log t / n) with t the rounds
so far, unseen base arms at d sqrt(1.5 log(k d)), the authors' LP-rounding oracle on
delay states by default, `oracle="exact"` to score every block; `refresh` and `ties`
as there). The first plays' indices come from the block's start states, as the authors'
code builds them: the state an arm has at its first play, delays beyond d lumped into d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacsuite.agents.lsd.blocks import (
    UCBTable,
    default_length,
    enumerate_blocks,
    first_play_keys,
    key_of,
    make_oracle,
    repeat_values,
    resolve_view,
    state_keys,
    tie_rng,
)
from tacsuite.agents.lsd.online import LearnResult, run
from tacsuite.envs.lsd_instance import LSDInstance


@dataclass
class CombUCB1Config:
    seed: int = 0
    """Seed of the reward noise."""
    d: int = 0
    """Block length (0: the largest d with k^(d+1) <= 4096, the length ISI-CombUCB1 uses
    minus one). Laforgue et al. use d = 3 on Figure 3 and d = 10 on Figure 4."""
    alpha: float = 1.5
    """Confidence width sqrt(alpha * log t / n)."""
    states: str = "auto"
    """Base-arm states: delay, lsd or auto (delay when the instance is delay-only)."""
    oracle: str = "auto"
    """Block oracle: lp (the authors' LP rounding, delay states only), exact (score
    every block), auto (lp on delay states, else exact)."""
    refresh: str = "block"
    """When indices are recomputed: block (all, at each block start) or visited (the
    authors' code: after each counted play, those of the states the arms sit in)."""
    ties: str = "first"
    """Best blocks (exact oracle) or arms (lp rounding) tied in score: first (the
    lexicographically first block, the lowest arm) or random (a seeded uniform draw)."""


class CombUCB1:
    def __init__(self, instance: LSDInstance, config: CombUCB1Config):
        if config.d < 0:
            raise ValueError(f"d must be >= 0 (0: automatic), got {config.d}")
        if not config.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {config.alpha}")
        self.k, M = instance.k, instance.tau_max
        self.view = resolve_view(config.states, instance.is_delay_only)
        L = config.d or default_length(self.k) - 1
        cap = min(L, M + 1 if self.view == "delay" else M)
        self.blocks = enumerate_blocks(self.k, L, self.view, cap)
        self.table = UCBTable(self.k, cap, L, config.alpha, config.refresh)
        self.lp = make_oracle(config.oracle, self.view, self.k, L)
        self.queue: list[int] = []
        self.rng = tie_rng(config.ties, config.seed)

    def scores(self, idx: np.ndarray, state: np.ndarray) -> np.ndarray:
        """The UCB sum of every block started in the env's signed `state`."""
        b, k, cap = self.blocks, self.k, self.blocks.cap
        L = b.length
        score = b.inner @ idx.ravel()
        keys = first_play_keys(state, self.view, cap, L)
        first = np.concatenate([np.take_along_axis(idx, cap + keys, axis=1),
                                np.zeros((k, 1))], axis=1)
        score += first[np.arange(k)[None, :], b.first].sum(axis=1)
        if self.view == "lsd":
            s = np.asarray(state, dtype=np.int64)
            c0 = np.where(s < 0, -s, 0)[:, None]
            j = np.arange(1, L)[None, :]
            cont = np.take_along_axis(idx, cap - np.minimum(c0 + j, cap), axis=1)
            w = np.concatenate([np.zeros((k, 1)), np.cumsum(cont, axis=1)], axis=1)
            score += w[b.seqs[:, 0], b.run - 1]
        return score

    def act(self, t: int, state: np.ndarray) -> int:
        self.state = state
        if not self.queue:
            idx = self.table.indices(t)
            if self.lp is None:
                self.queue = self.blocks.best(self.scores(idx, state), self.rng)
            else:
                b = self.blocks
                keys = first_play_keys(state, self.view, b.cap, b.length)
                first = np.take_along_axis(idx, b.cap + keys, axis=1)
                self.queue = self.lp.best(first, repeat_values(idx, b), self.rng)
        return self.queue.pop(0)

    def update(self, t: int, arm: int, state: int, reward: float) -> None:
        self.table.add(arm, key_of(state, self.view, self.blocks.cap), reward)
        if self.table.refresh == "visited":
            self.table.revisit(t + 1, state_keys(self.state, self.view, self.blocks.cap))


def learn(instance: LSDInstance, config: CombUCB1Config | None = None) -> LearnResult:
    config = config or CombUCB1Config()
    return run(instance, CombUCB1(instance, config), config.seed)
