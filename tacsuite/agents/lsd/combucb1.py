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
    BlockConfig,
    BlockLearner,
    default_length,
    first_play_keys,
    repeat_values,
)
from tacsuite.agents.lsd.online import LearnResult, run
from tacsuite.envs.lsd_instance import LSDInstance


@dataclass
class CombUCB1Config(BlockConfig):
    d: int = 0
    """Block length (0: the largest d with k^(d+1) <= 4096, the length ISI-CombUCB1 uses
    minus one). Laforgue et al. use d = 3 on Figure 3 and d = 10 on Figure 4."""


class CombUCB1(BlockLearner):
    def __init__(self, instance: LSDInstance, config: CombUCB1Config):
        super().__init__(instance, config, config.d or default_length(instance.k) - 1)

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
        self.count(t, arm, state, reward)


def learn(instance: LSDInstance, config: CombUCB1Config | None = None) -> LearnResult:
    config = config or CombUCB1Config()
    return run(instance, CombUCB1(instance, config), config.seed)
