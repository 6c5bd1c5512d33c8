"""What the block learners (ISI-CombUCB1, CombUCB1) share: their options and set-up, the
base arms they estimate, the enumeration of every block of L plays, and the UCB indices
of CombUCB1.

Base arms. A play is attributed to the base arm (arm, key). In the "delay" view (the
model of Laforgue et al.'s experiments: a payoff depends only on the rounds since the
arm's last pull) key = +min(delay, cap), delay 1 meaning pulled in the previous round;
the env's signed state s maps to delay 1 when s < 0 and s + 1 otherwise. In the "lsd"
view key = sign(s) min(|s|, cap): runs and rests are told apart. `cap` is the block
length L (the authors' code lumps every delay >= L into delay L), never more than the
env reports (tau_max + 1 delays, tau_max signed states).

Blocks. Every sequence of L arms is enumerated once (k^L of them). Per sequence we keep
which plays have a state fixed by the sequence alone (an arm's repeat inside the block;
in the lsd view not the run that opens the block, which may continue the previous
block's run) as counts per base arm, plus each arm's first-play position and the length
of the opening run, from which CombUCB1 adds the plays whose state comes from the block's
start state.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from tacsuite.agents.lsd.online import StateEstimates
from tacsuite.envs.lsd_instance import LSDInstance

MAX_SEQUENCES = 60_000
VIEWS = ("auto", "delay", "lsd")
ORACLES = ("auto", "exact", "lp")
TIE = 1e-9  # scores within this of the best are ties
TIES = ("first", "random")


def pick(values: np.ndarray, tie: float, rng: np.random.Generator | None) -> int:
    """The index of a value within `tie` of the largest: the first one, or with `rng` one
    drawn uniformly among them."""
    best = np.flatnonzero(values >= values.max() - tie)
    return int(best[0] if rng is None else rng.choice(best))


def tie_rng(ties: str, seed: int) -> np.random.Generator | None:
    """None for first-best ties, else a generator of its own (the env's reward noise is
    untouched: the same seed gives the same draws whatever the ties)."""
    if ties not in TIES:
        raise ValueError(f"ties {ties!r} is not one of {list(TIES)}")
    return None if ties == "first" else np.random.default_rng([seed, 0x71E5])


def resolve_view(view: str, delay_only: bool) -> str:
    if view not in VIEWS:
        raise ValueError(f"states {view!r} is not one of {list(VIEWS)}")
    if view == "delay" and not delay_only:
        raise ValueError("states='delay' needs a delay-only instance (constant satiated "
                         "payoffs per arm); use states='lsd'")
    if view == "auto":
        return "delay" if delay_only else "lsd"
    return view


def default_length(k: int, limit: int = 4096) -> int:
    """The longest block with at most `limit` sequences (at least 2)."""
    return max(2, int(math.floor(math.log(limit) / math.log(max(k, 2)) + 1e-9)))


@dataclass(frozen=True)
class Blocks:
    view: str
    cap: int
    seqs: np.ndarray  # (N, L) every block, in lexicographic order
    inner: np.ndarray  # (N, k (2 cap + 1)) plays whose base arm the sequence alone fixes
    first: np.ndarray  # (N, k) first-play position of each arm, L when not played
    run: np.ndarray  # (N,) length of the run of seq[0] that opens the block

    @property
    def length(self) -> int:
        return self.seqs.shape[1]

    def column(self, arm: int, key: int) -> int:
        return arm * (2 * self.cap + 1) + self.cap + key

    def best(self, score: np.ndarray, rng: np.random.Generator | None = None) -> list[int]:
        """A sequence whose score is within TIE of the best: the first in lexicographic
        order, or with `rng` a uniform draw among them."""
        return self.seqs[pick(score, TIE, rng)].tolist()


def key_of(state: int, view: str, cap: int) -> int:
    """The base-arm key of a play made in the env's signed `state`."""
    if view == "delay":
        return min(1 if state < 0 else state + 1, cap)
    return -min(-state, cap) if state < 0 else min(state, cap)


def enumerate_blocks(k: int, length: int, view: str, cap: int) -> Blocks:
    if k ** length > MAX_SEQUENCES:
        raise ValueError(f"blocks of {length} plays of {k} arms make {k}^{length} sequences, "
                         f"more than {MAX_SEQUENCES}; choose a smaller d")
    seqs = np.array(list(itertools.product(range(k), repeat=length)), dtype=np.int64)
    width = 2 * cap + 1
    inner = np.zeros((len(seqs), k * width))
    first = np.full((len(seqs), k), length, dtype=np.int64)
    run = np.ones(len(seqs), dtype=np.int64)
    for n, seq in enumerate(seqs.tolist()):
        last: dict[int, int] = {}
        start: dict[int, int] = {}  # where the arm's current run began
        opening = True
        for q, a in enumerate(seq):
            opening = opening and a == seq[0]
            if opening and q > 0:
                run[n] += 1
            if a not in last:
                first[n, a] = q
                start[a] = q
            elif view == "delay":
                inner[n, a * width + cap + min(q - last[a], cap)] += 1
            elif last[a] == q - 1:
                if not opening:
                    inner[n, a * width + cap - min(q - start[a], cap)] += 1
            else:
                inner[n, a * width + cap + min(q - last[a] - 1, cap)] += 1
                start[a] = q
            last[a] = q
    return Blocks(view, cap, seqs, inner, first, run)


def first_play_keys(state: np.ndarray, view: str, cap: int, length: int) -> np.ndarray:
    """(k, L): the key of each arm's play at position q of a block that starts in `state`
    when the arm has not been played earlier in the block."""
    s = np.asarray(state, dtype=np.int64)[:, None]
    q = np.arange(length)[None, :]
    if view == "delay":
        delay = np.where(s < 0, 1, s + 1)
        return np.minimum(delay + q, cap)
    rest = np.minimum(np.maximum(s, 0) + q, cap)  # idle since before the block, or since q=0
    at0 = np.where(s < 0, -np.minimum(-s, cap), np.minimum(s, cap))
    return np.where(q == 0, at0, rest)


REFRESH = ("block", "visited")


class UCBTable:
    """CombUCB1's indices mean + sqrt(alpha log t / n) per base arm; a base arm never
    observed gets `unseen` (Laforgue et al.'s code: L sqrt(alpha log(k L)), L the block
    length, large enough that every base arm is tried).

    `refresh` says when an index is recomputed. "block": every index at the start of
    each block with t the rounds played so far (CombUCB1 as Kveton et al. state it).
    "visited": as Laforgue et al.'s code does, after each counted play, and then only the
    indices of the base arms some arm sits in just before that play (the played one
    included), with t the number of that round; every other index keeps the value it
    had when last recomputed, so a base arm not visited for a while keeps a stale,
    smaller bonus."""

    def __init__(self, k: int, cap: int, length: int, alpha: float, refresh: str = "block"):
        if refresh not in REFRESH:
            raise ValueError(f"refresh {refresh!r} is not one of {list(REFRESH)}")
        self.k, self.cap, self.alpha, self.refresh = k, cap, alpha, refresh
        self.est = StateEstimates(k, cap)
        self.unseen = length * math.sqrt(alpha * math.log(k * length))
        self.stored = np.full((k, 2 * cap + 1), self.unseen)
        self.stored[:, cap] = 0.0

    def add(self, arm: int, key: int, reward: float) -> None:
        self.est.add(arm, key, reward)

    def revisit(self, t: int, keys: np.ndarray) -> None:
        """Recompute the stored index of (arm i, keys[i]) for every observed one, after
        round t (1-based), the "visited" refresh."""
        rows = np.arange(self.k)
        cols = self.cap + np.asarray(keys, dtype=np.int64)
        n = self.est.n[rows, cols]
        seen = n > 0
        mean = self.est.total[rows, cols] / np.maximum(n, 1)
        bonus = np.sqrt(self.alpha * math.log(max(t, 1)) / np.maximum(n, 1))
        self.stored[rows[seen], cols[seen]] = (mean + bonus)[seen]

    def indices(self, t: int) -> np.ndarray:
        """(k, 2 cap + 1) indices after t rounds; column cap (key 0) is 0."""
        if self.refresh == "visited":
            return self.stored.copy()
        n = self.est.n
        mean = self.est.total / np.maximum(n, 1)
        bonus = np.sqrt(self.alpha * math.log(max(t, 1)) / np.maximum(n, 1))
        idx = np.where(n > 0, mean + bonus, self.unseen)
        idx[:, self.cap] = 0.0
        return idx


def state_keys(state: np.ndarray, view: str, cap: int) -> np.ndarray:
    """The base-arm key each arm would be played in from the env's signed `state`."""
    return np.array([key_of(int(s), view, cap) for s in state], dtype=np.int64)


def make_oracle(oracle: str, view: str, k: int, length: int):
    """None for the exact oracle, else the authors' LP rounding (`block_lp.BlockLP`);
    "auto" is the LP rounding on delay states (the published experiments' oracle) and
    the exact one on signed LSD states, where the LP does not apply."""
    if oracle not in ORACLES:
        raise ValueError(f"oracle {oracle!r} is not one of {list(ORACLES)}")
    if oracle == "auto":
        oracle = "lp" if view == "delay" else "exact"
    if oracle == "exact":
        return None
    if view != "delay":
        raise ValueError("oracle='lp' works on delay states only (a delay-only instance); "
                         "use oracle='exact'")
    from tacsuite.agents.lsd.block_lp import BlockLP

    return BlockLP(k, length)


@dataclass
class BlockConfig:
    """The options ISI-CombUCB1 and CombUCB1 share; each restates `d`, which sets a block
    of d + 1 plays for the one and of d plays for the other."""

    seed: int = 0
    """Seed of the reward noise."""
    d: int = 0
    """Block length parameter (0: automatic)."""
    alpha: float = 1.5
    """Confidence width sqrt(alpha * log t / n)."""
    states: str = "auto"
    """Base-arm states: delay (delay-only instances), lsd (signed run/rest states) or auto
    (delay when the instance is delay-only)."""
    oracle: str = "auto"
    """Block oracle: lp (the authors' LP rounding, delay states only), exact (score
    every block), auto (lp on delay states, else exact)."""
    refresh: str = "block"
    """When indices are recomputed: block (all, at each block start) or visited (the
    authors' code: after each counted play, those of the states the arms sit in)."""
    ties: str = "first"
    """Best blocks (exact oracle) or arms (lp rounding) tied in score: first (the
    lexicographically first block, the lowest arm) or random (a seeded uniform draw)."""


class BlockLearner:
    """A learner that plays whole blocks of `length` arms, each block chosen from the UCB
    indices of the base arms, and counts plays into those estimates."""

    def __init__(self, instance: LSDInstance, config: BlockConfig, length: int):
        if config.d < 0:
            raise ValueError(f"d must be >= 0 (0: automatic), got {config.d}")
        if not config.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {config.alpha}")
        self.k, M = instance.k, instance.tau_max
        self.view = resolve_view(config.states, instance.is_delay_only)
        cap = min(length, M + 1 if self.view == "delay" else M)
        self.blocks = enumerate_blocks(self.k, length, self.view, cap)
        self.table = UCBTable(self.k, cap, length, config.alpha, config.refresh)
        self.lp = make_oracle(config.oracle, self.view, self.k, length)
        self.queue: list[int] = []
        self.rng = tie_rng(config.ties, config.seed)

    def count(self, t: int, arm: int, state: int, reward: float) -> None:
        """Add the play of `arm` in the env's signed `state` at round t to its base arm."""
        self.table.add(arm, key_of(state, self.view, self.blocks.cap), reward)
        if self.table.refresh == "visited":
            self.table.revisit(t + 1, state_keys(self.state, self.view, self.blocks.cap))


def repeat_values(idx: np.ndarray, blocks: Blocks) -> np.ndarray:
    """(k, L): the index of a repeat at in-block delay tau (column tau; column 0 unused)."""
    tau = np.minimum(np.arange(blocks.length), blocks.cap)
    out = idx[:, blocks.cap + tau].copy()
    out[:, 0] = 0.0
    return out
