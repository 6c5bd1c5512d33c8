"""LOOP (He, Zhong & Yang, ICLR 2024): local fitting, optimism on the gain, few switches.

Both incarnations share one skeleton. The played hypothesis f_t has a fitted prediction
for every transition; the local-fitting gap of f_t is how far its predictions sit from
the best fit of the same targets. The learner keeps f_t while that gap stays inside a
looser confidence set (`looser` times the radius) and only then re-solves the optimistic
program f_{t+1} = argmax {J_f : f in the confidence set}, so switches are rare.

Model-based (tabular envs; `--variant model`). A hypothesis is a model (P_f, r_f) with
its optimal bias V_f and gain J_f. Local fitting is value-targeted: for each (s, a) the
targets r + V(s') are regressed on the model's prediction r_f(s,a) + P_f(s,a).V, and
the confidence set keeps the models whose prediction lies within the empirical-Bernstein
width of that fit (plus the simplex). Optimistic planning is extended value iteration
over this set (`amdp_planning.value_targeted_evi`): the slab is applied along the value
being backed up, which is the one the played hypothesis will be tested on. Because this
set is rectangular (per (s, a)) the paper's global squared-loss ball is replaced by
per-pair widths, and the switching test, run at every step on the pair just visited, is
|r_f + P_f.V_f - (r^ + P^.V_f)| > looser * width: f_t has left the looser set.

Value-based (envs with `info["features"]`, the linear AMDP; `--variant value`).
A hypothesis is (w, J) with Q_f = phi^T w and V_f(s) = min(max_a Q_f(s, a), B),
normalised so that min V_f = 0 over the states seen (span clipping to `span` = B).
With ridge statistics Lambda = lam I + sum phi phi^T, the best fit of the targets
r_i - J + V_f(s_{i+1}) is w^(w, J) = Lambda^-1 sum phi_i (r_i - J + V_f(s_{i+1})),
and the gap is exactly ||w - w^(w, J)||^2_Lambda. The optimistic program
max J s.t. gap <= beta is solved as the paper states for small d: bisection on J
between the certainty-equivalent gain and 1, with, for each J, the gap minimised over w
by BFGS (analytic gradient, warm-started). Where this approximates: the inner
minimisation is local (the gap is non-convex in w through the max and the clip), so a
J is declared infeasible when the local minimum misses the ball, and the bisection
assumes the feasible gains form an interval; both make the answer less optimistic,
never infeasible. The switching test evaluates the exact gap of the played (w, J)
after every step (Sherman-Morrison updates, O(d^2) per step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import minimize

from tacsuite.agents.common.amdp_planning import (
    bernstein_width,
    span_iteration,
    value_targeted_evi,
)
from tacsuite.agents.common.continuing import (
    ContinuingConfig,
    ContinuingRun,
    PolicyTableLearner,
    run_continuing,
    summary,  # noqa: F401 (the CLI line)
)
from tacsuite.agents.common.tabular_stats import TabularCounts, bernstein_scalar


@dataclass
class Config(ContinuingConfig):
    out: str = "runs/loop"
    """Run folder (config.json, metrics.jsonl, result.json, rewards.npy, switches.npy,
    gains.npy, regret.png); empty writes nothing."""
    variant: Literal["auto", "model", "mixture", "value"] = "auto"
    """model-based tabular, model-based linear mixture (envs exposing phi for every
    (s, a), e.g. LinearAMDP), value-based (linear features), or auto: value-based when
    the env provides info["features"], else tabular."""
    delta: float = 0.05
    """Confidence level delta of the confidence sets."""
    looser: float = 2.0
    """c: the played hypothesis is kept until it leaves the set c times the radius."""
    width_scale: float = 1.0
    """Model-based: multiplier on the empirical-Bernstein widths."""
    aperiodicity: float = 0.5
    """Model-based: tau of the aperiodic transform in extended value iteration."""
    span: float = 4.0
    """Value-based: span bound B of the clipped bias (should be >= sp(h*))."""
    lam: float = 1.0
    """Value-based: ridge regularisation lambda."""
    beta_scale: float = 1.0
    """Value-based: multiplier on the radius beta of the (w, J) confidence set."""


# --------------------------------------------------------------------------- model-based

class TabularLOOP(PolicyTableLearner):
    def __init__(self, S: int, A: int, delta: float, looser: float, width_scale: float,
                 tau: float):
        for name, val, ok in (("delta", delta, 0 < delta < 1), ("looser", looser, looser >= 1),
                              ("width_scale", width_scale, width_scale > 0)):
            if not ok:
                raise ValueError(f"{name}={val!r} is out of range (delta in (0, 1), "
                                 f"looser >= 1, width_scale > 0)")
        self.S, self.A, self.delta, self.c = S, A, delta, looser
        self.scale, self.tau = width_scale, tau
        self.counts = TabularCounts(S, A)
        self.policy = np.zeros(S, dtype=np.int64)
        self.V = np.zeros(S)
        self.replans, self.gains = 0, []
        self._plan(1)

    def log_term(self, t: int) -> float:
        return math.log(2 * self.S * self.A * max(t, 2) / self.delta)

    def _plan(self, t: int) -> bool:
        c, L = self.counts, self.log_term(t)
        r_up = np.minimum(c.r_hat() + self.scale * bernstein_width(c.n, c.r_var(), 1.0, L),
                          1.0)
        plan = value_targeted_evi(c.p_hat(), c.n, r_up, L, eps=1 / math.sqrt(t),
                                  scale=self.scale, tau=self.tau, v0=self.V)
        self.V, self.pred = plan.bias, plan.backup
        self.span_v = float(np.ptp(self.V))
        # Running sums of the played value at next states: the fit r^ + P^.V_f per pair.
        self.sv = c.N @ self.V
        self.svv = c.N @ (self.V * self.V)
        return self.adopt(plan)

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        c = self.counts
        c.add(s, a, r, s2)
        v2 = self.V[s2]
        self.sv[s, a] += v2
        self.svv[s, a] += v2 * v2
        n = c.n[s, a]
        if n < 2:
            return False
        L = self.log_term(t)
        mean_v = self.sv[s, a] / n
        r_mean = c.r_sum[s, a] / n
        width = self.scale * (
            bernstein_scalar(n, self.svv[s, a] / n - mean_v * mean_v, self.span_v, L)
            + bernstein_scalar(n, c.r_sq[s, a] / n - r_mean * r_mean, 1.0, L))
        if abs(self.pred[s, a] - (r_mean + mean_v)) > self.c * width:
            return self._plan(t)
        return False


# ------------------------------------------------------------------ model-based, mixture

class MixtureLOOP(PolicyTableLearner):
    """Model-based LOOP for a linear mixture model P(s'|s,a) = phi(s,a)^T mu(., s').

    The learner knows the basis phi(s, a) (d-dim, every pair) and fits the unknown
    mu (d x S) and reward weights theta. Local fitting is value-targeted regression
    (UCRL-VTR style): the target V_{f_i}(s_{i+1}) of the value played at step i is
    regressed on psi_i = phi(s_i, a_i) (x) V_{f_i}, so vec(mu) has a confidence ellipsoid
    ||vec(mu) - vec(mu^)||_Sigma <= beta. Optimistic planning backs up
    phi^T mu^ v + beta ||phi (x) v||_{Sigma^-1} (capped at max v), and the switching test
    compares the played prediction with the current fit in the same units.
    """

    def __init__(self, phi: np.ndarray, delta: float, looser: float, lam: float,
                 beta_scale: float, tau: float):
        for name, val, ok in (("delta", delta, 0 < delta < 1), ("looser", looser, looser >= 1),
                              ("lam", lam, lam > 0), ("beta_scale", beta_scale, beta_scale > 0)):
            if not ok:
                raise ValueError(f"{name}={val!r} is out of range (delta in (0, 1), "
                                 f"looser >= 1, lam > 0, beta_scale > 0)")
        self.phi = np.asarray(phi, dtype=np.float64)
        self.S, self.A, self.d = self.phi.shape
        self.D = self.d * self.S
        self.delta, self.c, self.lam, self.scale, self.tau = delta, looser, lam, beta_scale, tau
        self.Sig_inv = np.eye(self.D) / lam
        self.bvec = np.zeros(self.D)
        self.Lr_inv = np.eye(self.d) / lam
        self.ur = np.zeros(self.d)
        self.n = 0
        self.policy = np.zeros(self.S, dtype=np.int64)
        self.V = np.zeros(self.S)
        self.replans, self.gains = 0, []
        self._plan()

    def _betas(self, span: float) -> tuple[float, float]:
        log_d = 2 * math.log(1 / self.delta)
        beta_r = math.sqrt(0.25 * (log_d + self.d * math.log(1 + self.n / (self.lam * self.d))))
        beta_p = span / 2 * math.sqrt(log_d + self.D * math.log(
            1 + self.n * max(span, 1.0) ** 2 / (self.lam * self.D)))
        return self.scale * (beta_r + math.sqrt(self.lam * self.d)), \
            self.scale * (beta_p + math.sqrt(self.lam * self.d) * span)

    def _plan(self) -> bool:
        mu = (self.Sig_inv @ self.bvec).reshape(self.d, self.S)
        theta = self.Lr_inv @ self.ur
        beta_r, _ = self._betas(1.0)
        r_bonus = np.sqrt(np.einsum("sai,ij,saj->sa", self.phi, self.Lr_inv, self.phi))
        r_up = np.minimum(self.phi @ theta + beta_r * r_bonus, 1.0)
        blocks = self.Sig_inv.reshape(self.d, self.S, self.d, self.S)

        def backup(v: np.ndarray) -> np.ndarray:
            G = np.einsum("isjt,s,t->ij", blocks, v, v)
            width = np.sqrt(np.maximum(np.einsum("sai,ij,saj->sa", self.phi, G, self.phi), 0))
            beta_p = self._betas(float(np.ptp(v)))[1]
            return r_up + np.minimum(self.phi @ (mu @ v) + beta_p * width, v.max())

        plan = span_iteration(backup, self.S, 1 / math.sqrt(max(self.n, 1)), self.tau, 20_000,
                              self.V)
        self.V, self.pred = plan.bias, plan.backup
        return self.adopt(plan)

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        phi = self.phi[s, a]
        x = np.outer(phi, self.V).ravel()
        g = self.Sig_inv @ x
        self.Sig_inv -= np.outer(g, g) / (1.0 + x @ g)
        self.bvec += x * self.V[s2]
        gr = self.Lr_inv @ phi
        self.Lr_inv -= np.outer(gr, gr) / (1.0 + phi @ gr)
        self.ur += phi * r
        self.n += 1
        fit = phi @ (self.Lr_inv @ self.ur) + x @ (self.Sig_inv @ self.bvec)
        beta_r, beta_p = self._betas(float(np.ptp(self.V)))
        width = beta_r * math.sqrt(max(phi @ self.Lr_inv @ phi, 0.0)) \
            + beta_p * math.sqrt(max(x @ self.Sig_inv @ x, 0.0))
        if abs(self.pred[s, a] - fit) > self.c * width:
            return self._plan()
        return False


# --------------------------------------------------------------------------- value-based

class LinearLOOP:
    def __init__(self, S: int, A: int, d: int, span: float, lam: float, beta_scale: float,
                 delta: float, looser: float):
        for name, val, ok in (("span", span, span > 0), ("lam", lam, lam > 0),
                              ("beta_scale", beta_scale, beta_scale > 0),
                              ("delta", delta, 0 < delta < 1), ("looser", looser, looser >= 1)):
            if not ok:
                raise ValueError(f"{name}={val!r} is out of range (span, lam, beta_scale > 0, "
                                 f"delta in (0, 1), looser >= 1)")
        self.S, self.A, self.d = S, A, d
        self.B, self.lam, self.beta_scale, self.delta, self.c = span, lam, beta_scale, delta, \
            looser
        self.Lam = lam * np.eye(d)
        self.Lam_inv = np.eye(d) / lam
        self.u, self.b, self.z = np.zeros(d), np.zeros(d), np.zeros(d)
        self.M = np.zeros((d, S))
        self.F = np.zeros((S, A, d))
        self.seen = np.zeros(S, dtype=bool)
        self.n = 0
        # f_1 = argmax_H J_f: with no data every (w, J) fits, so the largest gain, J = 1.
        self.w, self.J = np.zeros(d), 1.0
        self.actions = np.full(S, -1, dtype=np.int64)
        self.replans, self.gains = 1, [1.0]

    def beta(self) -> float:
        sigma2 = ((1.0 + self.B) / 2) ** 2
        return self.beta_scale * sigma2 * (self.d * math.log(1 + self.n / (self.lam * self.d))
                                           + 2 * math.log(1 / self.delta))

    def _see(self, s: int, feats) -> None:
        if not self.seen[s]:
            feats = np.asarray(feats, dtype=np.float64)
            if feats.shape != (self.A, self.d):
                raise ValueError(f"info['features'] has shape {feats.shape}; expected "
                                 f"(n_actions, d) = {(self.A, self.d)}")
            self.F[s], self.seen[s] = feats, True

    def _value(self, s: int) -> float:
        return min(float((self.F[s] @ self.w).max()), self.B)

    def act(self, s: int, info: dict) -> int:
        self._see(s, info["features"])
        if self.actions[s] < 0:
            self.actions[s] = int((self.F[s] @ self.w).argmax())
        return int(self.actions[s])

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        self._see(s2, info["features"])
        phi = self.F[s, a]
        self.Lam += np.outer(phi, phi)
        g = self.Lam_inv @ phi
        self.Lam_inv -= np.outer(g, g) / (1.0 + phi @ g)
        self.u += phi * r
        self.b += phi
        self.M[:, s2] += phi
        self.z += phi * self._value(s2)
        self.n += 1
        e = self.w - self.Lam_inv @ (self.u - self.J * self.b + self.z)
        if e @ self.Lam @ e > self.c * self.beta():
            return self._plan()
        return False

    # The gap of (w, J) over the states seen so far, and its gradient. The raw parameter w
    # is normalised to w_f = w - m(w) 1 with m(w) = min_s max_a phi(s, a)^T w (phi sums to
    # one, so this shifts Q and V by m): the bias is defined up to a constant, and fixing
    # min V = 0 stops the ridge term from trading a constant shift of w against J.
    def _hypothesis(self, w: np.ndarray, Fs: np.ndarray):
        q = Fs @ w
        rows = np.arange(q.shape[0])
        amax = q.argmax(1)
        vmax = q[rows, amax]
        imin = int(vmax.argmin())
        m = vmax[imin]
        V = np.minimum(vmax - m, self.B)
        return w - m, V, Fs[rows, amax], imin, vmax - m < self.B

    def _gap(self, w: np.ndarray, J: float, Fs: np.ndarray, Ms: np.ndarray):
        wf, V, D, imin, free = self._hypothesis(w, Fs)
        e = wf - self.Lam_inv @ (self.u - J * self.b + Ms @ V)
        Le = self.Lam @ e
        g = D[imin]
        x = (Ms.T @ e) * free
        grad_w = 2 * (Le - g * Le.sum() - (D.T @ x - g * x.sum()))
        return float(e @ Le), grad_w, 2 * float(e @ self.b)

    def _min_gap(self, J: float, w0: np.ndarray, Fs, Ms) -> tuple[float, np.ndarray]:
        res = minimize(lambda w: self._gap(w, J, Fs, Ms)[:2], w0, jac=True, method="BFGS",
                       options={"maxiter": 200})
        return float(res.fun), res.x

    def _plan(self) -> bool:
        self.Lam_inv = np.linalg.inv(self.Lam)
        idx = np.flatnonzero(self.seen)
        Fs, Ms = self.F[idx], self.M[:, idx]
        beta = self.beta()

        def joint(x):
            val, gw, gJ = self._gap(x[:-1], x[-1], Fs, Ms)
            return val, np.append(gw, gJ)

        x0 = np.append(self.w, min(self.J, 1.0))
        fit = minimize(joint, x0, jac=True, method="BFGS", options={"maxiter": 500})
        w_best, J_lo = fit.x[:-1], float(np.clip(fit.x[-1], 0.0, 1.0))
        gap_hi, w_hi = self._min_gap(1.0, w_best, Fs, Ms)
        if gap_hi <= beta:
            w_best, J_best = w_hi, 1.0
        else:
            lo, hi, J_best = J_lo, 1.0, J_lo
            gap_lo, w_lo = self._min_gap(J_lo, w_best, Fs, Ms)
            w_best = w_lo
            for _ in range(16):
                mid = 0.5 * (lo + hi)
                gap_mid, w_mid = self._min_gap(mid, w_best, Fs, Ms)
                if gap_mid <= beta:
                    lo, J_best, w_best = mid, mid, w_mid
                else:
                    hi = mid
        old = self.actions[idx].copy()
        self.w, self.J = self._hypothesis(w_best, Fs)[0], J_best
        self.z = self.M @ np.array([self._value(s) if self.seen[s] else 0.0
                                    for s in range(self.S)])
        self.actions[:] = -1
        new = np.array([self.act(int(s), {"features": self.F[s]}) for s in idx])
        self.replans += 1
        self.gains.append(self.J)
        return bool(np.any((old >= 0) & (old != new)))

    def policy_table(self) -> np.ndarray | None:
        if not self.seen.all():
            return None
        return np.array([self.act(s, {"features": self.F[s]}) for s in range(self.S)])


def train(config: Config) -> dict:
    """Run LOOP on one stream of `steps` steps; write the run folder; return result.json."""
    return run(config).result


def fit(config: Config) -> tuple[TabularLOOP | MixtureLOOP | LinearLOOP, dict]:
    """(learner, result) of one run."""
    out = run(config)
    return out.learner, out.result


def run(config: Config) -> ContinuingRun:
    """Play one stream of `steps` steps; write the run folder (when `out` is set)."""
    def make(env, info, steps, rng):
        S, A = env.observation_space.n, env.action_space.n
        variant = config.variant
        if variant == "auto":
            variant = "value" if "features" in info else "model"
        if variant == "value":
            if "features" not in info:
                raise ValueError(f"--variant value needs info['features'] from the env; "
                                 f"{config.env} provides none")
            d = int(np.asarray(info["features"]).shape[-1])
            return LinearLOOP(S, A, d, config.span, config.lam, config.beta_scale,
                              config.delta, config.looser)
        if variant == "mixture":
            phi = getattr(env.unwrapped, "phi", None)
            if phi is None or np.ndim(phi) != 3:
                raise ValueError(f"--variant mixture needs the env's basis phi (S x A x d) on "
                                 f"the unwrapped env; {config.env} has none")
            return MixtureLOOP(phi, config.delta, config.looser, config.lam, config.beta_scale,
                               config.aperiodicity)
        if variant != "model":
            raise ValueError(f"variant {variant!r} is not one of auto, model, mixture, value")
        return TabularLOOP(S, A, config.delta, config.looser, config.width_scale,
                           config.aperiodicity)

    return run_continuing(config, "loop", make)
