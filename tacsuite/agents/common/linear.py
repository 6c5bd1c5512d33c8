"""Optimistic least-squares value iteration for (robust) linear MDPs, written once.

The pieces LSVI-UCB, DR-LSVI-UCB and DR-RPO share:

- `RidgeStep`: the ridge statistics of one step h, updated per sample in O(d^2) with the
  Sherman-Morrison formula: Lambda^{-1}, sum phi r, and sum phi over transitions grouped
  by next state. Grouping is exact (the regression target depends on the next state
  only), so finite-state environments cost O(#states) per step no matter how many
  episodes were played; continuous ones grow with the number of distinct next states.
- `StateTable`: the states met at step h (by their feature matrix), with policy logits.
- `tv_breakpoint`: the TV worst case of ridge estimates by sorting the next-state values
  (the objective is piecewise linear in alpha with kinks there), O(U log U) per step.
- `LinearLearner`: the backward pass (robust or not) with a d-rectangular or elliptical
  bonus, and three ways to act: greedy (LSVI-UCB), softmax of the current optimistic Q
  ("soft"), or KL-regularised policy mirror descent ("pmd", DR-RPO).
"""

from __future__ import annotations

import numpy as np

from tacsuite.theory.robust import DIVERGENCES, worst_case

BONUSES = ("d-rect", "elliptical")
UPDATES = ("greedy", "soft", "pmd")


class RidgeStep:
    """Ridge statistics of one step: Lambda^{-1}, sum phi r, and sum phi per next state."""

    def __init__(self, d: int, lam: float):
        if lam <= 0:
            raise ValueError(f"ridge lam must be > 0, got {lam}")
        self.d = d
        self.inv = np.eye(d) / lam
        self.b = np.zeros(d)
        self.n = 0
        self.M = np.zeros((d, 16))   # column 0: terminal / end of horizon (value 0)
        self.width = 1

    def add(self, phi: np.ndarray, reward: float, column: int) -> None:
        u = self.inv @ phi
        self.inv -= np.outer(u, u) / (1.0 + phi @ u)
        self.b += reward * phi
        if column >= self.M.shape[1]:
            grown = np.zeros((self.d, max(2 * self.M.shape[1], column + 1)))
            grown[:, :self.M.shape[1]] = self.M
            self.M = grown
        self.M[:, column] += phi
        self.width = max(self.width, column + 1)
        self.n += 1

    def theta(self) -> np.ndarray:
        return self.inv @ self.b

    def weights(self, width: int) -> np.ndarray:
        """Xi = Lambda^{-1} sum_tau phi_tau e_{next(tau)}^T, shape (d, width)."""
        return self.inv @ self.M[:, :width]


class StateTable:
    """States met at one step, keyed by their feature matrix (A, d), with policy logits."""

    def __init__(self, n_actions: int, d: int):
        self.index: dict[bytes, int] = {}
        self.feats = np.zeros((16, n_actions, d))
        self.logits = np.zeros((16, n_actions))
        self.size = 0

    def lookup(self, feats: np.ndarray, init_logits: np.ndarray | None = None) -> int:
        key = feats.tobytes()
        i = self.index.get(key)
        if i is None:
            i = self.size
            if i == self.feats.shape[0]:
                self.feats = np.concatenate([self.feats, np.zeros_like(self.feats)])
                self.logits = np.concatenate([self.logits, np.zeros_like(self.logits)])
            self.feats[i] = feats
            if init_logits is not None:
                self.logits[i] = init_logits
            self.index[key] = i
            self.size += 1
        return i


def tv_breakpoint(xi: np.ndarray, y: np.ndarray, rho: np.ndarray, v_min: float) -> np.ndarray:
    """max over alpha >= v_min of sum_u xi[i, u] min(y_u, alpha) - rho_i (alpha - v_min).

    The objective is piecewise linear in alpha with kinks at the y_u, so the maximum is at
    alpha = v_min or at some y_u; sorting y and two cumulative sums evaluate all of them.
    """
    order = np.argsort(y, kind="stable")
    ys, xs = y[order], xi[:, order]
    below = np.cumsum(xs * ys, axis=1)                       # sum_{k <= j} xi y
    above = xs.sum(axis=1, keepdims=True) - np.cumsum(xs, axis=1)  # sum_{k > j} xi
    at_knots = below + above * ys[None, :] - rho[:, None] * (ys[None, :] - v_min)
    at_floor = v_min * xs.sum(axis=1)
    return np.maximum(at_knots.max(axis=1), at_floor)


def robust_estimate(xi: np.ndarray, y: np.ndarray, rho: np.ndarray, divergence: str,
                    penalised: bool, v_min: float) -> np.ndarray:
    """Per-factor worst-case expectations of the next-state values from ridge weights.

    Factors with radius 0 keep the plain ridge estimate xi @ y: the uncertainty set is the
    nominal factor itself, and maximising a noisy dual over alpha would add optimism the
    non-robust algorithm does not have.
    """
    nu = xi @ y
    active = rho > 0
    if not np.any(active):
        return nu
    lo = min(v_min, float(y.min()))
    if divergence == "tv" and not penalised:
        nu[active] = tv_breakpoint(xi[active], y, rho[active], lo)
    else:
        nu[active] = worst_case(xi[active], y, rho[active], divergence, penalised, v_min=lo)
    return nu


def bonus(feats: np.ndarray, inv: np.ndarray, kind: str, scale: float) -> np.ndarray:
    """UCB bonus per (state, action): d-rectangular sum_i phi_i sqrt(inv_ii) or ||phi||_inv."""
    if scale == 0:
        return np.zeros(feats.shape[:-1])
    if kind == "d-rect":
        return scale * feats @ np.sqrt(np.maximum(np.diag(inv), 0.0))
    return scale * np.sqrt(np.maximum(np.einsum("...i,ij,...j->...", feats, inv, feats), 0.0))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


class LinearLearner:
    """Episodic optimistic LSVI, robust to d-rectangular shifts when rho > 0.

    rho: (H, d) radii (penalty weights when `penalised`); beta: KL weight toward the
    uniform reference policy (0: hard max); update: how the acting policy is formed.
    """

    def __init__(self, horizon: int, n_actions: int, d: int, *, rho: np.ndarray,
                 divergence: str = "tv", penalised: bool = False, lam: float = 0.1,
                 bonus_kind: str = "d-rect", bonus_scale: float = 1.0, beta: float = 0.0,
                 update: str = "greedy", eta: float = 1.0, max_reward: float = 1.0,
                 v_min: float = 0.0, seed: int = 0):
        if divergence not in DIVERGENCES:
            raise ValueError(f"divergence {divergence!r} is not one of {DIVERGENCES}")
        if bonus_kind not in BONUSES:
            raise ValueError(f"bonus {bonus_kind!r} is not one of {BONUSES}")
        if update not in UPDATES:
            raise ValueError(f"update {update!r} is not one of {UPDATES}")
        if update != "greedy" and beta <= 0:
            raise ValueError(f"update {update!r} needs beta > 0 (got {beta}); use greedy")
        if eta <= 0 or bonus_scale < 0 or beta < 0:
            raise ValueError(f"need eta > 0, bonus_scale >= 0, beta >= 0; got eta={eta}, "
                             f"bonus_scale={bonus_scale}, beta={beta}")
        rho = np.broadcast_to(np.asarray(rho, dtype=np.float64), (horizon, d)).copy()
        if np.any(rho < 0) or not np.all(np.isfinite(rho)):
            raise ValueError(f"rho must be finite and >= 0, got {rho.max()}")
        self.H, self.A, self.d = horizon, n_actions, d
        self.rho, self.divergence, self.penalised = rho, divergence, penalised
        self.bonus_kind, self.bonus_scale = bonus_kind, bonus_scale
        self.beta, self.update, self.eta = beta, update, eta
        self.v_max = max_reward * (horizon - np.arange(horizon))
        self.v_min = v_min
        self.log_ref = np.full(n_actions, -np.log(n_actions))
        self.steps = [RidgeStep(d, lam) for _ in range(horizon)]
        self.tables = [StateTable(n_actions, d) for _ in range(horizon)]
        self.w = np.zeros((horizon, d))
        self.planned = False
        # Total weight mirror descent has put on the Q's so far, per step: a state met for
        # the first time starts from log pi_ref + weight * Q-bar (as if Q-bar had been
        # constant over the past episodes), optimism included.
        self.weight = np.zeros(horizon)
        self.rng = np.random.default_rng(seed)
        self.suboptimality: np.ndarray | None = None  # per episode, when tracked

    # ------------------------------------------------------------------ acting -------
    def q_values(self, h: int, feats: np.ndarray) -> np.ndarray:
        """Optimistic Q-bar_h at states given by feature matrices (..., A, d)."""
        if not self.planned:
            return np.broadcast_to(self.v_max[h], feats.shape[:-1]).copy()
        q = feats @ self.w[h] + bonus(feats, self.steps[h].inv, self.bonus_kind,
                                      self.bonus_scale)
        return np.minimum(q, self.v_max[h])

    def probs(self, h: int, feats: np.ndarray, register: bool = False) -> np.ndarray:
        """pi_h(.|s) at one state (A, d); `register` adds it to the PMD table."""
        if self.update == "pmd":
            table = self.tables[h]
            key = feats.tobytes()
            if key in table.index:
                logits = table.logits[table.index[key]]
            else:
                logits = self._initial_logits(h, feats)
                if register:
                    table.lookup(feats, logits)
            return np.exp(_log_softmax(logits))
        q = self.q_values(h, feats)
        if self.update == "soft":
            return np.exp(_log_softmax(q / self.beta + self.log_ref))
        best = q >= q.max() - 1e-12
        return best / best.sum()

    def act(self, h: int, feats: np.ndarray) -> int:
        p = self.probs(h, feats, register=True)
        return int(self.rng.choice(self.A, p=p))

    def _initial_logits(self, h: int, feats: np.ndarray) -> np.ndarray:
        if not self.planned:
            return self.log_ref.copy()
        return self.log_ref + self.weight[h] * self.q_values(h, feats)

    # ------------------------------------------------------------------ data ---------
    def observe(self, h: int, feats: np.ndarray, action: int, reward: float,
                next_feats: np.ndarray | None) -> None:
        """Record (s_h, a_h, r_h, s_{h+1}); next_feats None when s_{h+1} has value 0."""
        column = 0
        if next_feats is not None and h + 1 < self.H:
            nxt = self.tables[h + 1]
            init = self._initial_logits(h + 1, next_feats) if self.update == "pmd" else None
            column = 1 + nxt.lookup(next_feats, init)
        self.steps[h].add(feats[action], reward, column)

    # ------------------------------------------------------------------ planning -----
    def plan(self) -> list[np.ndarray]:
        """One backward pass: optimistic (robust) evaluation, then the policy update.

        Returns V-bar_h on each step's state table (used by the tests).
        """
        values: list[np.ndarray] = [np.zeros(0)] * self.H
        y = np.zeros(1)
        for h in range(self.H - 1, -1, -1):
            step, table = self.steps[h], self.tables[h]
            width = min(step.width, y.size)
            xi = step.weights(width)
            nu = robust_estimate(xi, y[:width], self.rho[h], self.divergence,
                                 self.penalised, self.v_min)
            self.w[h] = step.theta() + nu
            self.planned = True
            feats = table.feats[:table.size]
            q = self.q_values(h, feats)
            values[h] = self._state_values(h, q)
            y = np.concatenate([[0.0], values[h]])
        return values

    def _state_values(self, h: int, q: np.ndarray) -> np.ndarray:
        if q.shape[0] == 0:
            return np.zeros(0)
        if self.update == "greedy":
            return q.max(-1)
        if self.update == "soft":
            z = q / self.beta + self.log_ref
            m = z.max(-1)
            return self.beta * (m + np.log(np.exp(z - m[:, None]).sum(-1)))
        # PMD: evaluate the current policy, then take the mirror-descent step.
        table = self.tables[h]
        logp = _log_softmax(table.logits[:table.size])
        p = np.exp(logp)
        v = (p * q).sum(-1) - self.beta * (p * (logp - self.log_ref)).sum(-1)
        k = 1.0 + self.eta * self.beta
        table.logits[:table.size] = _log_softmax(
            (logp + self.eta * self.beta * self.log_ref + self.eta * q) / k)
        self.weight[h] = (self.weight[h] + self.eta) / k
        return v

    def policy_table(self, features: np.ndarray) -> np.ndarray:
        """pi[h, s, a] at the states given by features (S, A, d)."""
        return np.stack([np.stack([self.probs(h, f) for f in features])
                         for h in range(self.H)])


# ---------------------------------------------------------------------- saving -------
# Two data-only views of a learner (see tacsuite.agents.common.saved):
# - the model: what acting needs at states not met in training (w, Lambda^{-1}, the
#   mirror-descent weight), O(H d^2) numbers whatever the training length;
# - the checkpoint: every statistic, so training continues exactly where it stopped.

def learner_options(learner: LinearLearner) -> dict:
    return {"horizon": learner.H, "n_actions": learner.A, "d": learner.d,
            "divergence": learner.divergence, "penalised": bool(learner.penalised),
            "bonus_kind": learner.bonus_kind, "bonus_scale": float(learner.bonus_scale),
            "beta": float(learner.beta), "update": learner.update, "eta": float(learner.eta),
            "max_reward": float(learner.v_max[-1]), "v_min": float(learner.v_min)}


def model_arrays(learner: LinearLearner) -> tuple[dict, dict[str, np.ndarray]]:
    meta = dict(learner_options(learner), planned=bool(learner.planned))
    return meta, {"w": learner.w, "inv": np.stack([s.inv for s in learner.steps]),
                  "weight": learner.weight, "rho": learner.rho}


def _empty_learner(meta: dict, rho: np.ndarray) -> LinearLearner:
    keys = ("divergence", "penalised", "bonus_kind", "bonus_scale", "beta", "update", "eta",
            "max_reward", "v_min")
    return LinearLearner(int(meta["horizon"]), int(meta["n_actions"]), int(meta["d"]),
                         rho=rho,  # Lambda^{-1} is restored, so lam plays no part
                         **{k: meta[k] for k in keys})


def learner_from_model(meta: dict, arrays: dict[str, np.ndarray]) -> LinearLearner:
    """A learner that acts as the saved one does at any state it did not meet."""
    learner = _empty_learner(meta, arrays["rho"])
    H, d = learner.H, learner.d
    if arrays["w"].shape != (H, d) or arrays["inv"].shape != (H, d, d):
        raise ValueError(f"saved linear model has shapes {arrays['w'].shape}, "
                         f"{arrays['inv'].shape}; expected ({H}, {d}), ({H}, {d}, {d})")
    learner.w = np.array(arrays["w"], dtype=np.float64)
    for h, step in enumerate(learner.steps):
        step.inv = np.array(arrays["inv"][h], dtype=np.float64)
    learner.weight = np.array(arrays["weight"], dtype=np.float64)
    learner.planned = bool(meta["planned"])
    return learner


def checkpoint_arrays(learner: LinearLearner) -> tuple[dict, dict[str, np.ndarray]]:
    meta, arrays = model_arrays(learner)
    meta["rng"] = learner.rng.bit_generator.state
    meta["n"] = [s.n for s in learner.steps]
    meta["width"] = [s.width for s in learner.steps]
    for h, (step, table) in enumerate(zip(learner.steps, learner.tables, strict=True)):
        arrays[f"b{h}"] = step.b
        arrays[f"M{h}"] = step.M[:, :step.width]
        arrays[f"feats{h}"] = table.feats[:table.size]
        arrays[f"logits{h}"] = table.logits[:table.size]
        # the keys are the raw bytes of the features as the env gave them (any dtype)
        keys = sorted(table.index, key=table.index.__getitem__)
        width = len(keys[0]) if keys else 0
        arrays[f"keys{h}"] = np.frombuffer(b"".join(keys), np.uint8).reshape(len(keys), width)
    return meta, arrays


def learner_from_checkpoint(meta: dict, arrays: dict[str, np.ndarray]) -> LinearLearner:
    """The learner exactly as it was when the checkpoint was written."""
    learner = learner_from_model(meta, arrays)
    for h, (step, table) in enumerate(zip(learner.steps, learner.tables, strict=True)):
        step.b = np.array(arrays[f"b{h}"], dtype=np.float64)
        step.width, step.n = int(meta["width"][h]), int(meta["n"][h])
        step.M = np.zeros((learner.d, max(16, step.width)))
        step.M[:, :step.width] = arrays[f"M{h}"]
        feats, logits = arrays[f"feats{h}"], arrays[f"logits{h}"]
        size = len(feats)
        table.feats = np.zeros((max(16, size), learner.A, learner.d))
        table.logits = np.zeros((max(16, size), learner.A))
        table.feats[:size], table.logits[:size], table.size = feats, logits, size
        table.index = {bytes(k): i for i, k in enumerate(arrays[f"keys{h}"])}
    learner.rng.bit_generator.state = meta["rng"]
    return learner
