"""ISI-CombUCB1 (Laforgue, Clerici, Cesa-Bianchi and Gilad-Bachrach, AISTATS 2022).

Time is cut into blocks of d + 1 rounds; each block is a combinatorial semi-bandit round
whose base arms are (arm, signed state) pairs. A block's action sequence maximises the
sum of the UCB indices (mean + sqrt(alpha log t / n), alpha = 1.5, t = blocks so far) of
its plays, *excluding each arm's first play in the block*, whose state depends on the
previous block (the "ISI" idea). With satiation the run that opens a block may continue a
run of the previous block, so all of its plays are excluded too; the in-block states of the
remaining plays then follow from the sequence alone. The paper's LP oracle with greedy
rounding is replaced by exact enumeration of all k^(d+1) sequences (at most 4096 with the
default d), so the block choice is exact. Estimates use the state the env reports for
every play (states are observed here).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from tacsuite.agents.lsd.online import LearnResult, StateEstimates, run
from tacsuite.envs.lsd_instance import LSDInstance

MAX_SEQUENCES = 60_000


@dataclass
class ISICombUCB1Config:
    seed: int = 0
    """Seed of the reward noise."""
    d: int = 0
    """Block length minus one (0: the largest d with k^(d+1) <= 4096)."""
    alpha: float = 1.5
    """Confidence width sqrt(alpha * log t / n)."""
    unseen: float = 10.0
    """Index of a base arm never observed (large: try it)."""


def block_counts(k: int, M: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """All sequences of `length` arms and, per sequence, how often it plays each
    (arm, state) base arm outside first plays (column a * (2M + 1) + M + s)."""
    if k ** length > MAX_SEQUENCES:
        raise ValueError(f"k^(d+1) = {k}^{length} sequences exceed {MAX_SEQUENCES}; "
                         f"choose a smaller d")
    seqs = np.array(list(itertools.product(range(k), repeat=length)), dtype=np.int64)
    counts = np.zeros((len(seqs), k * (2 * M + 1)))
    for n, seq in enumerate(seqs.tolist()):
        last, run = {}, {}
        opening = True  # still inside the run that opens the block
        for q, a in enumerate(seq):
            opening = opening and a == seq[0]
            if a in last and not opening:
                if last[a] == q - 1:
                    s = -min(run[a], M)
                    run[a] += 1
                else:
                    s = min(q - last[a] - 1, M)
                    run[a] = 1
                counts[n, a * (2 * M + 1) + M + s] += 1
            else:
                run[a] = run.get(a, 0) + 1 if last.get(a) == q - 1 else 1
            last[a] = q
    return seqs, counts


class ISICombUCB1:
    def __init__(self, instance: LSDInstance, config: ISICombUCB1Config):
        k, M = instance.k, instance.tau_max
        d = config.d or max(1, int(math.floor(math.log(4096) / math.log(max(k, 2)))) - 1)
        self.config = config
        self.seqs, self.counts = block_counts(k, M, d + 1)
        self.est = StateEstimates(k, M)
        self.block: list[int] = []
        self.blocks = 0

    def act(self, t: int, state: np.ndarray) -> int:
        if not self.block:
            # t in the width counts combinatorial rounds (blocks), as in CombUCB1.
            self.blocks += 1
            idx = self.est.ucb(self.blocks, self.config.alpha, unseen=self.config.unseen,
                               cap=None)
            score = self.counts @ np.nan_to_num(idx.ravel(), nan=0.0)
            self.block = self.seqs[int(np.argmax(score))].tolist()
        return self.block.pop(0)

    def update(self, t: int, arm: int, state: int, reward: float) -> None:
        self.est.add(arm, state, reward)


def learn(instance: LSDInstance, config: ISICombUCB1Config | None = None) -> LearnResult:
    config = config or ISICombUCB1Config()
    return run(instance, ISICombUCB1(instance, config), config.seed)
