"""The block oracle of Laforgue et al.'s experiments: an LP relaxation of "choose the
block of L plays with the largest index sum", rounded greedily position by position.

Delay view only. Variables, all in [0, 1]: x[i, t], arm i pulled at position t for the
first time in the block (worth `first[i, t]`), and y[i, tau, t], arm i pulled at t with
its previous pull at t - tau (worth `value[i, tau]`). Constraints: one pull per position;
at most one first pull per arm; a repeat of arm i at t needs a first pull of i before t;
every pull of i has at most one successor (sum over t > s of y[i, t - s, t] <= pull of i
at s). Integer points are exactly the blocks (an arm's pulls form one chain from its
first pull), so the LP value bounds the best block. Rounding: for each position in turn,
try every arm with the prefix fixed, keep the one whose LP value is largest (the lowest
arm on ties, within `TIE`), and pick the last position exactly.

The LPs are solved with HiGHS through one persistent model: a block changes the costs, a
prefix only the column bounds, and the solver restarts from the previous basis. That is
the same optimum a fresh solve finds (values agree to solver tolerance, far inside
`TIE`), at about a twentieth of the cost, which is what makes ten seeds of the LP-oracle
learners affordable.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from tacsuite.agents.lsd.blocks import pick

TIE = 1e-7


class BlockLP:
    def __init__(self, k: int, length: int):
        self.k, self.L = k, length
        L = length
        self.xid = np.arange(k * L).reshape(k, L)
        yid = np.full((k, L, L), -1, dtype=np.int64)  # yid[i, tau, t], tau in 1..t
        n = k * L
        for i in range(k):
            for t in range(1, L):
                for tau in range(1, t + 1):
                    yid[i, tau, t] = n
                    n += 1
        self.yid, self.n = yid, n
        rows, cols, vals = [], [], []
        r = 0
        # equality: one pull per position
        for t in range(L):
            for i in range(k):
                rows.append(r), cols.append(self.xid[i, t]), vals.append(1.0)
                for tau in range(1, t + 1):
                    rows.append(r), cols.append(yid[i, tau, t]), vals.append(1.0)
            r += 1
        self.A_eq = sp.csr_matrix((vals, (rows, cols)), shape=(L, n))
        rows, cols, vals = [], [], []
        r = 0
        for i in range(k):  # at most one first pull
            for t in range(L):
                rows.append(r), cols.append(self.xid[i, t]), vals.append(1.0)
            r += 1
        for i in range(k):  # a repeat needs an earlier first pull
            for t in range(1, L):
                for tau in range(1, t + 1):
                    rows.append(r), cols.append(yid[i, tau, t]), vals.append(1.0)
                for s in range(t):
                    rows.append(r), cols.append(self.xid[i, s]), vals.append(-1.0)
                r += 1
        for i in range(k):  # at most one successor per pull
            for s in range(L - 1):
                for t in range(s + 1, L):
                    rows.append(r), cols.append(yid[i, t - s, t]), vals.append(1.0)
                rows.append(r), cols.append(self.xid[i, s]), vals.append(-1.0)
                for tau in range(1, s + 1):
                    rows.append(r), cols.append(yid[i, tau, s]), vals.append(-1.0)
                r += 1
        self.A_ub = sp.csr_matrix((vals, (rows, cols)), shape=(r, n))
        self.b_ub = np.concatenate([np.ones(k), np.zeros(r - k)])
        self._model()

    def _model(self) -> None:
        A = sp.vstack([self.A_eq, self.A_ub]).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, A.shape[0]
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n), np.ones(self.n)
        free = np.full(self.A_ub.shape[0], -highspy.kHighsInf)
        lp.row_lower_ = np.concatenate([np.ones(self.L), free])
        lp.row_upper_ = np.concatenate([np.ones(self.L), self.b_ub])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr, A.indices
        lp.a_matrix_.value_ = A.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.cols = np.arange(self.n, dtype=np.int32)
        self.cost = np.zeros(self.n)

    def _costs(self, first: np.ndarray, value: np.ndarray) -> np.ndarray:
        c = np.zeros(self.n)
        c[self.xid.ravel()] = first.ravel()
        for i in range(self.k):
            for t in range(1, self.L):
                for tau in range(1, t + 1):
                    c[self.yid[i, tau, t]] = value[i, tau]
        return c

    def _fixed(self, prefix: list[int]) -> np.ndarray:
        """Bounds that fix every variable of the prefix's positions to the prefix."""
        bounds = np.zeros((self.n, 2))
        bounds[:, 1] = 1.0
        last: dict[int, int] = {}
        for t, a in enumerate(prefix):
            bounds[self.xid[:, t], 1] = 0.0
            for tau in range(1, t + 1):
                bounds[self.yid[:, tau, t], 1] = 0.0
            j = self.xid[a, t] if a not in last else self.yid[a, t - last[a], t]
            bounds[j] = 1.0
            last[a] = t
        return bounds

    def value(self, c: np.ndarray, prefix: list[int]) -> float:
        """The LP value for costs `c` with the prefix's positions fixed to it."""
        h = self.highs
        if not np.array_equal(c, self.cost):
            h.changeColsCost(self.n, self.cols, c)
            self.cost = c.copy()
        bounds = self._fixed(prefix)
        h.changeColsBounds(self.n, self.cols, bounds[:, 0].copy(), bounds[:, 1].copy())
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"block LP failed: {h.modelStatusToString(status)}")
        return float(h.getInfo().objective_function_value)

    def best(self, first: np.ndarray, value: np.ndarray,
             rng: np.random.Generator | None = None) -> list[int]:
        """A block for first-pull values `first[i, t]` and repeat values `value[i, tau]`
        (tau = 1..L-1; column 0 unused); ties go to the lowest arm, or with `rng` to a
        uniform draw among the tied arms."""
        c = self._costs(first, value)
        prefix: list[int] = []
        for _ in range(self.L - 1):
            vals = np.array([self.value(c, prefix + [a]) for a in range(self.k)])
            prefix.append(pick(vals, TIE, rng))
        vals = np.array([c @ self._fixed(prefix + [a])[:, 0] for a in range(self.k)])
        prefix.append(pick(vals, TIE, rng))
        return prefix
