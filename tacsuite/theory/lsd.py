"""Exact oracles for last-switch-dependent (LSD) bandits: DP, long-run optimum, LP bound.

Model. k arms, cap M (tau_max). Each arm carries a signed state s: s = -c means it was
played in the previous round and its current run has c rounds (capped at M); s = +m means
it has been idle for m rounds (capped at M). Playing arm a pays `satiated[a, c-1]` in
state -c and `rested[a, m-1]` in state +m. After a play the played arm moves to -1 (or
-(c+1) when it continues its run) and every other arm to +1 (if it was just played) or
+min(m+1, M). The payoff table `mu[a, M + s]` (column M unused) is built by `mean_table`.

The LP relaxation decomposes each arm's time line into cycles: m >= 1 idle rounds then a
run of l >= 1 plays, worth R(l, m) = rested[m-1] + sum_{c<l} satiated[min(c,M)-1] over
l + m rounds, plus "endless run" time paying satiated[M-1] per round. Gaps longer than M
and runs longer than M pay the same as (l, M) cycles plus slack or endless-run time, so
l, m in 1..M lose nothing. Every periodic schedule is a feasible point with the same
average reward (pulls sum to exactly one per round), so LP >= J*, the long-run optimum;
repeating a T-round schedule periodically gives OPT(T) <= T LP + C with the boundary term
C = (M + k - 1) * (max mean - min mean) (`boundary_term`, `upper_bound`), for every
instance, monotone or not.

Only numpy and scipy are used; the rest of the suite is tested against these functions.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

MAX_STATES = 200_000


def _arrays(satiated, rested) -> tuple[np.ndarray, np.ndarray]:
    sat = np.asarray(satiated, dtype=np.float64)
    res = np.asarray(rested, dtype=np.float64)
    if sat.ndim != 2 or sat.shape != res.shape or sat.shape[1] < 1 or sat.shape[0] < 1:
        raise ValueError(f"satiated and rested must both be (k, tau_max) arrays; got "
                         f"{sat.shape} and {res.shape}")
    if not (np.all(np.isfinite(sat)) and np.all(np.isfinite(res))):
        raise ValueError("satiated and rested must be finite")
    return sat, res


def _state(initial_state, k: int, M: int) -> np.ndarray:
    s = np.asarray(initial_state, dtype=np.int64)
    if s.shape != (k,) or np.any(s == 0) or np.any(np.abs(s) > M):
        raise ValueError(f"initial_state must be {k} signed states in [-{M}, -1] or [1, {M}]; "
                         f"got {np.asarray(initial_state).tolist()}")
    return s


def mean_table(satiated, rested) -> np.ndarray:
    """`mu[a, M + s]`: the mean payoff of arm a in signed state s (column M is NaN)."""
    sat, res = _arrays(satiated, rested)
    k, M = sat.shape
    mu = np.full((k, 2 * M + 1), np.nan)
    mu[:, :M] = sat[:, ::-1]  # s = -M .. -1
    mu[:, M + 1:] = res  # s = 1 .. M
    return mu


def next_state(state: np.ndarray, action: int, M: int) -> np.ndarray:
    """The signed state of every arm after playing `action` (a new array)."""
    s = np.asarray(state, dtype=np.int64)
    out = np.where(s < 0, 1, np.minimum(s + 1, M))
    out[action] = -min(-s[action] + 1, M) if s[action] < 0 else -1
    return out


def sequence_rewards(satiated, rested, initial_state, actions) -> np.ndarray:
    """Mean payoff of each round of the action sequence (exact, no sampling)."""
    sat, res = _arrays(satiated, rested)
    k, M = sat.shape
    s0 = _state(initial_state, k, M)
    acts = np.asarray(actions, dtype=np.int64).ravel()
    if acts.size and (acts.min() < 0 or acts.max() >= k):
        raise ValueError(f"actions must lie in [0, {k - 1}]")
    # last play time and run length per arm; idle m <=> last = t - 1 - m.
    last = [(-1 if v < 0 else -1 - int(v)) for v in s0]
    run = [(-int(v) if v < 0 else 0) for v in s0]
    satl, resl = sat.tolist(), res.tolist()
    out = np.empty(acts.size)
    for t, a in enumerate(acts.tolist()):
        if last[a] == t - 1:
            c = run[a]
            out[t] = satl[a][min(c, M) - 1]
            run[a] = c + 1
        else:
            out[t] = resl[a][min(t - 1 - last[a], M) - 1]
            run[a] = 1
        last[a] = t
    return out


@dataclass(frozen=True)
class StateGraph:
    """Every joint state reachable from the start, with deterministic transitions."""

    states: np.ndarray  # (S, k) signed states; row 0 is the initial state
    next: np.ndarray  # (S, k) index of the successor state
    reward: np.ndarray  # (S, k) mean payoff of each action


def state_graph(satiated, rested, initial_state, max_states: int = MAX_STATES) -> StateGraph:
    """Breadth-first enumeration of the joint (last arm, run, idle counts) states."""
    sat, res = _arrays(satiated, rested)
    k, M = sat.shape
    s0 = tuple(int(v) for v in _state(initial_state, k, M))
    mu = mean_table(sat, res)
    index = {s0: 0}
    order = [s0]
    nxt: list[list[int]] = []
    queue = deque([s0])
    while queue:
        s = queue.popleft()
        row = []
        for a in range(k):
            t = tuple(1 if v < 0 else min(v + 1, M) for v in s)
            t = t[:a] + ((-min(-s[a] + 1, M) if s[a] < 0 else -1),) + t[a + 1:]
            j = index.get(t)
            if j is None:
                j = index[t] = len(order)
                if j >= max_states:
                    raise ValueError(f"more than {max_states} reachable joint states "
                                     f"(k={k}, tau_max={M}); the exact oracles need a "
                                     f"smaller instance")
                order.append(t)
                queue.append(t)
            row.append(j)
        nxt.append(row)
    states = np.array(order, dtype=np.int64)
    reward = mu[np.arange(k)[None, :], M + states]
    return StateGraph(states, np.array(nxt, dtype=np.int64), reward)


@dataclass(frozen=True)
class PlanValue:
    value: float
    actions: np.ndarray  # (T,) an optimal action sequence


def finite_horizon_optimum(satiated, rested, initial_state, horizon: int,
                           actions: bool = True, graph: StateGraph | None = None) -> PlanValue:
    """The exact optimum of the T-round problem by backward DP over the joint state.

    Memory stays O((T / B + B) S) with B ~ sqrt(T): value vectors are checkpointed every B
    rounds and recomputed block by block while the optimal actions are read off forward.
    """
    T = int(horizon)
    if T < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon!r}")
    g = graph if graph is not None else state_graph(satiated, rested, initial_state)
    B = max(1, int(np.ceil(np.sqrt(T))))
    V = np.zeros(len(g.states))
    checkpoints = {T: V}
    for t in range(T - 1, -1, -1):
        V = np.max(g.reward + V[g.next], axis=1)
        if t % B == 0:
            checkpoints[t] = V
    value = float(V[0])
    if not actions:
        return PlanValue(value, np.empty(0, dtype=np.int64))
    acts = np.empty(T, dtype=np.int64)
    s = 0
    for t0 in range(0, T, B):
        t1 = min(t0 + B, T)
        block = [checkpoints[t1]]  # block[j] = V_{t1 - j}
        for _ in range(t1 - 1, t0, -1):
            block.append(np.max(g.reward + block[-1][g.next], axis=1))
        for t in range(t0, t1):
            Vn = block[t1 - t - 1]
            a = int(np.argmax(g.reward[s] + Vn[g.next[s]]))
            acts[t] = a
            s = int(g.next[s, a])
    return PlanValue(value, acts)


def brute_force_optimum(satiated, rested, initial_state, horizon: int) -> PlanValue:
    """Enumerate all k^T action sequences (T <= 12): the DP's independent cross-check."""
    sat, _ = _arrays(satiated, rested)
    k = sat.shape[0]
    if horizon < 1 or k ** horizon > 600_000:
        raise ValueError(f"brute force needs 1 <= horizon and k^T <= 600000; got k={k}, "
                         f"T={horizon}")
    best, arg = -np.inf, None
    for seq in itertools.product(range(k), repeat=horizon):
        v = float(sequence_rewards(satiated, rested, initial_state, seq).sum())
        if v > best + 1e-12:
            best, arg = v, seq
    return PlanValue(best, np.array(arg, dtype=np.int64))


def average_optimum(satiated, rested, initial_state=None, graph: StateGraph | None = None
                    ) -> float:
    """Exact long-run optimal average reward: Karp's maximum mean cycle on the state graph.

    The joint dynamics are deterministic, so the best long-run average is the best mean
    weight of a cycle reachable from the start; any cycle is reachable from any start
    once its actions have been played for one period.
    """
    sat, _ = _arrays(satiated, rested)
    k, M = sat.shape
    if graph is None:
        s0 = np.full(k, M) if initial_state is None else initial_state
        graph = state_graph(satiated, rested, s0, max_states=3000)
    S = len(graph.states)
    if S > 3000:
        raise ValueError(f"average_optimum handles at most 3000 joint states, got {S}")
    D = np.full((S + 1, S), -np.inf)
    D[0] = 0.0
    dst = graph.next.ravel()
    for n in range(1, S + 1):
        cand = (D[n - 1][:, None] + graph.reward).ravel()
        np.maximum.at(D[n], dst, cand)
    with np.errstate(invalid="ignore"):
        ratios = (D[S][None, :] - D[:S]) / (S - np.arange(S))[:, None]
    ratios[~np.isfinite(ratios)] = np.inf
    per_node = ratios.min(axis=0)
    per_node[~np.isfinite(D[S])] = -np.inf
    return float(per_node.max())


@dataclass(frozen=True)
class LPSolution:
    """Optimal LP point: time fractions x[i, l-1, m-1] in (l, m)-cycles, y[i] endless runs."""

    value: float  # optimal long-run average reward of the relaxation
    x: np.ndarray  # (k, L, M)
    y: np.ndarray  # (k,)

    @property
    def pull_rate(self) -> np.ndarray:
        """Per arm, the fraction of rounds the relaxation plays it."""
        L, M = self.x.shape[1:]
        ell = np.arange(1, L + 1)[:, None]
        frac = ell / (ell + np.arange(1, M + 1)[None, :])
        return (self.x * frac).sum(axis=(1, 2)) + self.y


def cycle_rewards(satiated, rested) -> np.ndarray:
    """R[i, l-1, m-1] = rested[i, m-1] + sum_{c=1}^{l-1} satiated[i, min(c, M)-1], l <= M."""
    sat, res = _arrays(satiated, rested)
    k, M = sat.shape
    run = np.concatenate([np.zeros((k, 1)), np.cumsum(sat, axis=1)[:, :M - 1]], axis=1)
    return res[:, None, :] + run[:, :, None]


def lp_relaxation(satiated, rested, runs: bool = True) -> LPSolution:
    """Solve the cycle LP with HiGHS: pulls sum to exactly one per round (every round plays
    an arm), each arm's cycles and endless runs fill at most all of its time.

    `runs=False` keeps only l = 1 cycles and y (the recharging relaxation; equal to the
    full LP when satiated payoffs are constant)."""
    sat, res = _arrays(satiated, rested)
    k, M = sat.shape
    L = M if runs else 1
    R = cycle_rewards(sat, res)[:, :L, :]
    ell = np.arange(1, L + 1)[:, None]
    length = ell + np.arange(1, M + 1)[None, :]
    per_arm = L * M + 1
    c = np.concatenate([np.concatenate([(R[i] / length).ravel(), [sat[i, M - 1]]])
                        for i in range(k)])
    pulls = np.tile(np.concatenate([(ell / length).ravel(), [1.0]]), k)
    rows = np.repeat(np.arange(k), per_arm)
    A = sp.csr_matrix((np.ones(k * per_arm), (rows, np.arange(k * per_arm))),
                      shape=(k, k * per_arm))
    out = linprog(-c, A_ub=A, b_ub=np.ones(k), A_eq=sp.csr_matrix(pulls[None, :]),
                  b_eq=[1.0], bounds=(0, None), method="highs")
    if out.status != 0:
        raise RuntimeError(f"LP solver failed: {out.message}")
    z = np.clip(out.x, 0.0, None).reshape(k, per_arm)
    return LPSolution(float(-out.fun), z[:, :-1].reshape(k, L, M), z[:, -1].copy())


def boundary_term(satiated, rested) -> float:
    """C in OPT(T) <= T LP + C: (M + k - 1) times the spread of the means.

    Repeat an optimal T-round schedule with period T. Its long-run average is at most
    J* <= LP, and a round pays differently in the repetition only when the played arm's
    state reaches back before round 1: the first play of each arm, or the first M plays
    of the run of the arm played in round 1, so at most M + k - 1 rounds.
    """
    sat, res = _arrays(satiated, rested)
    k, M = sat.shape
    spread = max(sat.max(), res.max()) - min(sat.min(), res.min())
    return float((M + k - 1) * spread)


def upper_bound(satiated, rested, initial_state, horizon: int,
                lp: LPSolution | None = None) -> float:
    """T LP + C (`boundary_term`): an upper bound on the T-round optimum for every instance
    and start state (the start state only moves the C rounds covered by the term)."""
    sat, _ = _arrays(satiated, rested)
    _state(initial_state, *sat.shape)
    lp = lp if lp is not None else lp_relaxation(satiated, rested)
    return float(int(horizon) * lp.value + boundary_term(satiated, rested))


def recharging_lp(payoffs) -> tuple[float, np.ndarray]:
    """The delay-only (recharging) LP: max sum x[i,d] f_i(d)/d, sum_d x[i,d] <= 1,
    sum_{i,d} x[i,d]/d = 1, with f_i(d) the payoff of arm i at delay d (1 = just played).
    Returns (value, x) with x of shape (k, D)."""
    f = np.asarray(payoffs, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] < 1:
        raise ValueError(f"payoffs must be a (k, D) array, got shape {f.shape}")
    k, D = f.shape
    d = np.arange(1, D + 1)
    A = np.zeros((k, k * D))
    for i in range(k):
        A[i, i * D:(i + 1) * D] = 1.0
    out = linprog(-(f / d).ravel(), A_ub=A, b_ub=np.ones(k), A_eq=np.tile(1.0 / d, k)[None],
                  b_eq=[1.0], bounds=(0, None), method="highs")
    if out.status != 0:
        raise RuntimeError(f"LP solver failed: {out.message}")
    return float(-out.fun), np.clip(out.x, 0.0, None).reshape(k, D)
