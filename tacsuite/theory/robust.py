"""Exact robust and KL-policy-regularised dynamic programming for d-rectangular models.

A finite d-rectangular linear MDP has features phi(s, a) (probability vectors over d
factors), per-step factor distributions mu[h, i, :] over next states and reward weights
theta[h]: P_h(s'|s, a) = sum_i phi_i(s, a) mu[h, i, s'], r_h(s, a) = phi(s, a)^T theta[h].
The adversary perturbs each factor independently inside a divergence ball (TV, KL,
chi-square; "constrained") or pays a penalty sigma * D ("penalised"). Because the inner
infimum splits per factor, robust Q-functions stay linear in phi:
Q_h = phi^T (theta_h + nu_h) with nu_{h,i} = inf_mu E_mu[V_{h+1}].

The per-factor infimum is computed by its scalar dual (the `*_dual` / `*_penalty`
functions). Each dual takes general weights `w` (rows: factors, columns: next states):
the exact oracle passes the true factor distributions, the learning agents pass ridge
regression weights, so the same formulas serve both. `worst_case_primal` solves the primal
convex program with scipy and is the independent check the tests use.

Policy regularisation: V_h(s) = <pi_h, Q_h> - beta KL(pi_h(.|s) || pi_ref,h(.|s)); the
optimal regularised policy is softmax pi_ref * exp(Q/beta) and beta -> 0 gives the max.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog, minimize

DIVERGENCES = ("tv", "kl", "chi2")


def _as_weights(w, v) -> tuple[np.ndarray, np.ndarray]:
    w = np.atleast_2d(np.asarray(w, dtype=np.float64))
    v = np.asarray(v, dtype=np.float64).ravel()
    if w.shape[1] != v.size:
        raise ValueError(f"weights have {w.shape[1]} columns but there are {v.size} values")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(v))):
        raise ValueError("weights and values must be finite")
    return w, v


def _radius(rho, n: int, name: str = "rho") -> np.ndarray:
    r = np.broadcast_to(np.asarray(rho, dtype=np.float64), (n,)).copy()
    if np.any(~np.isfinite(r)) or np.any(r < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {rho!r}")
    return r


# ---------------------------------------------------------------- TV ------------------
def tv_dual(w, v, rho, v_min: float | None = None) -> np.ndarray:
    """inf over TV(mu, w_i) <= rho_i of E_mu[v].

    Dual: max over alpha of E_w[min(v, alpha)] - rho_i (alpha - v_min).

    `v_min` is the smallest value any next state can take (the adversary may move mass to
    states outside the support of w); default min(v). The objective is piecewise linear in
    alpha with kinks at the values, so the maximum is at alpha in {v_min} U {v}; this
    reference evaluates every candidate directly (O(d n^2)).
    """
    w, v = _as_weights(w, v)
    r = _radius(rho, w.shape[0])
    lo = float(v.min()) if v_min is None else float(v_min)
    if lo > v.min() + 1e-12:
        raise ValueError(f"v_min={lo} exceeds the smallest value {v.min()}")
    alphas = np.concatenate([[lo], v])
    clipped = np.minimum(v[None, :], alphas[:, None])          # (n_alpha, n)
    obj = w @ clipped.T - r[:, None] * (alphas[None, :] - lo)   # (d, n_alpha)
    return obj.max(axis=1)


def tv_penalty(w, v, sigma, v_min: float | None = None) -> np.ndarray:
    """inf_mu E_mu[v] + sigma_i TV(mu, w_i) = E_w[min(v, v_min + sigma_i)]."""
    w, v = _as_weights(w, v)
    s = _radius(sigma, w.shape[0], "sigma")
    lo = float(v.min()) if v_min is None else float(v_min)
    return np.einsum("dn,dn->d", w, np.minimum(v[None, :], lo + s[:, None]))


# ---------------------------------------------------------------- KL ------------------
def _is_distribution(w) -> np.ndarray:
    return np.all(w >= -1e-12, axis=1) & (np.abs(w.sum(axis=1) - 1.0) < 1e-9)


def _log_mean_exp_neg(w, v, lam, is_dist=None) -> np.ndarray:
    """log E_w[exp(-(v - min v)/lam)] per row (d) and lam (d, m).

    Rows that are distributions use an exact log-sum-exp. Other rows (ridge regression
    weights) estimate E as 1 + E_w[e - 1], so shrinkage pulls toward e^0, floored at
    e^{-span/lam} (the smallest value a true expectation could take) before the log.
    """
    lo = v.min()
    expo = -(v[None, None, :] - lo) / lam[:, :, None]             # (d, m, n)
    is_dist = _is_distribution(w) if is_dist is None else is_dist
    out = np.empty(lam.shape)
    if np.any(is_dist):
        with np.errstate(divide="ignore"):
            lw = np.log(np.maximum(w[is_dist], 0.0))[:, None, :]
        t = lw + expo[is_dist]
        m = t.max(axis=2, keepdims=True)
        out[is_dist] = m[..., 0] + np.log(np.exp(t - m).sum(axis=2))
    if np.any(~is_dist):
        z = np.einsum("dn,dmn->dm", w[~is_dist], np.exp(expo[~is_dist]) - 1.0) + 1.0
        with np.errstate(divide="ignore"):
            out[~is_dist] = np.maximum(np.log(np.maximum(z, 0.0)), -np.ptp(v) / lam[~is_dist])
    return out


def kl_dual(w, v, rho, iters: int = 70) -> np.ndarray:
    """inf over KL(mu || w_i) <= rho_i of E_mu[v] = sup_lam>0 -lam log E_w[e^{-v/lam}] - lam rho_i.

    Solved by a vectorised golden-section search over log(lam) (the dual is concave in
    lam, hence unimodal in log lam), plus the lam -> 0 limit min(v over supp w). For ridge
    weights E_w[e^{-v/lam}] is estimated as 1 + E_w[e^{-v/lam} - 1] and floored at
    e^{-span/lam} so shrinkage pulls toward e^0 and the log stays finite.
    """
    w, v = _as_weights(w, v)
    d = w.shape[0]
    r = _radius(rho, d)
    lo, span = float(v.min()), float(np.ptp(v))
    mean = w @ v
    if span == 0.0:
        return mean
    out = np.empty(d)
    zero = r == 0
    out[zero] = mean[zero]
    if np.all(zero):
        return out
    is_dist = _is_distribution(w)

    def f(loglam):
        lam = np.exp(loglam)
        return lo - lam * _log_mean_exp_neg(w, v, lam, is_dist) - lam * r[:, None]

    a = np.full((d, 1), np.log(span * 1e-4))
    b = np.full((d, 1), np.log(span * 1e4))
    g = (np.sqrt(5) - 1) / 2
    c, e = b - g * (b - a), a + g * (b - a)
    fc, fe = f(c), f(e)
    for _ in range(iters):
        # One new evaluation per iteration: keep the inner point on the better side.
        left = fc > fe
        a, b = np.where(left, a, c), np.where(left, e, b)
        x = np.where(left, b - g * (b - a), a + g * (b - a))
        fx = f(x)
        c, e, fc, fe = (np.where(left, x, e), np.where(left, c, x),
                        np.where(left, fx, fe), np.where(left, fc, fx))
    best = np.maximum(fc, fe)[:, 0]
    # lam -> 0: the infimum over the support (mass cannot leave supp(w) under KL).
    support_min = np.array([v[row > 1e-12].min() if np.any(row > 1e-12) else lo for row in w])
    best = np.maximum(best, np.where(r > 0, support_min, -np.inf))
    out[~zero] = np.minimum(best, mean)[~zero]
    return out


def kl_penalty(w, v, sigma) -> np.ndarray:
    """inf_mu E_mu[v] + sigma_i KL(mu || w_i) = -sigma_i log E_w[e^{-v/sigma_i}]."""
    w, v = _as_weights(w, v)
    s = _radius(sigma, w.shape[0], "sigma")
    if np.any(s == 0):
        raise ValueError("sigma must be > 0 for the KL penalty")
    return v.min() - s * _log_mean_exp_neg(w, v, s[:, None])[:, 0]


# ---------------------------------------------------------------- chi-square ----------
def _piecewise_moments(w, v):
    """Sorted breakpoints and, per interval [b_j, b_{j+1}], coefficients with
    E_w[min(v, a)] = A_j + B_j a and E_w[min(v, a)^2] = C_j + B_j a^2."""
    order = np.argsort(v, kind="stable")
    vs, ws = v[order], w[:, order]
    below_v = np.cumsum(ws * vs, axis=1)           # sum over k <= j of w v
    below_v2 = np.cumsum(ws * vs ** 2, axis=1)
    total = ws.sum(axis=1, keepdims=True)
    above = total - np.cumsum(ws, axis=1)          # sum over k > j of w
    return vs, below_v, below_v2, above


def _chi2_like(w, v, coef, penalised: bool) -> np.ndarray:
    w, v = _as_weights(w, v)
    vs, A, C, B = _piecewise_moments(w, v)
    d, n = w.shape
    # Intervals [vs[j], vs[j+1]] for j = 0..n-2 (alpha beyond max v changes nothing).
    lo_b = vs[:-1][None, :].repeat(d, 0) if n > 1 else np.zeros((d, 0))
    hi_b = vs[1:][None, :].repeat(d, 0) if n > 1 else np.zeros((d, 0))
    A, C, B = A[:, :-1], C[:, :-1], B[:, :-1]
    k = coef[:, None]

    def obj(alpha, A, C, B):
        mean = A + B * alpha
        var = np.maximum(C + B * alpha ** 2 - mean ** 2, 0.0)
        return mean - (var / (4 * k) if penalised else np.sqrt(k * var))

    cands = [lo_b, hi_b]
    if penalised:
        with np.errstate(divide="ignore", invalid="ignore"):
            cands.append((2 * k + A) / (1 - B))
    else:
        qa = B - B ** 2 - k * (1 - B) ** 2
        qb = -2 * A * B + 2 * k * A * (1 - B)
        qc = C - A ** 2 - k * A ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            disc = np.sqrt(np.maximum(qb ** 2 - 4 * qa * qc, 0.0))
            cands += [(-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa),
                      np.where(qb != 0, -qc / qb, np.nan)]
    best = np.full(d, -np.inf)
    for a in cands:
        a = np.where(np.isfinite(a), np.clip(a, lo_b, hi_b), lo_b)
        if a.size:
            best = np.maximum(best, obj(a, A, C, B).max(axis=1))
    # alpha at or above max(v): the plain mean and variance.
    mean = w @ v
    var = np.maximum(w @ v ** 2 - mean ** 2, 0.0)
    top = mean - (var / (4 * coef) if penalised else np.sqrt(coef * var))
    return np.maximum(best, top)


def chi2_dual(w, v, rho) -> np.ndarray:
    """inf over chi2(mu || w_i) <= rho_i of E_mu[v].

    Dual: sup over alpha of E[min(v, alpha)] - sqrt(rho_i Var[min(v, alpha)]).

    Between consecutive sorted values both moments are polynomials in alpha, so each
    interval's maximum is at an end or at a root of a quadratic: exact, no grid.
    """
    w, v = _as_weights(w, v)
    return _chi2_like(w, v, _radius(rho, w.shape[0]), penalised=False)


def chi2_penalty(w, v, sigma) -> np.ndarray:
    """inf_mu E_mu[v] + sigma_i chi2(mu || w_i).

    Dual: sup over alpha of E[min(v, alpha)] - Var[min(v, alpha)] / (4 sigma_i).
    """
    w, v = _as_weights(w, v)
    s = _radius(sigma, w.shape[0], "sigma")
    if np.any(s == 0):
        raise ValueError("sigma must be > 0 for the chi-square penalty")
    return _chi2_like(w, v, s, penalised=True)


def worst_case(w, v, radius, divergence: str = "tv", penalised: bool = False,
               v_min: float | None = None) -> np.ndarray:
    """Per-row worst-case expectation by the dual formula of `divergence`."""
    if divergence not in DIVERGENCES:
        raise ValueError(f"divergence {divergence!r} is not one of {DIVERGENCES}")
    if divergence == "tv":
        return (tv_penalty if penalised else tv_dual)(w, v, radius, v_min=v_min)
    if divergence == "kl":
        return (kl_penalty if penalised else kl_dual)(w, v, radius)
    return (chi2_penalty if penalised else chi2_dual)(w, v, radius)


def worst_case_primal(mu0, v, radius: float, divergence: str = "tv",
                      penalised: bool = False) -> tuple[float, np.ndarray]:
    """The primal convex program min_mu E_mu[v] (+ radius * D) solved with scipy.

    TV is a linear program over all states (mass may move anywhere); KL and chi-square are
    finite only for mu << mu0, so they are solved over the support of mu0 with SLSQP.
    Returns (value, mu). Used as the independent check of the dual formulas.
    """
    mu0 = np.asarray(mu0, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    n = mu0.size
    if divergence == "tv":
        # variables mu (n), t (n) with t >= |mu - mu0|; TV = sum(t) / 2.
        c = np.concatenate([v, np.full(n, radius / 2 if penalised else 0.0)])
        I = np.eye(n)
        A_ub = np.block([[I, -I], [-I, -I]])
        b_ub = np.concatenate([mu0, -mu0])
        if not penalised:
            A_ub = np.vstack([A_ub, np.concatenate([np.zeros(n), np.full(n, 0.5)])])
            b_ub = np.concatenate([b_ub, [radius]])
        A_eq = np.concatenate([np.ones(n), np.zeros(n)])[None, :]
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0],
                      bounds=[(0, None)] * (2 * n), method="highs")
        if not res.success:
            raise RuntimeError(f"TV primal LP failed: {res.message}")
        return float(res.fun), res.x[:n]
    supp = mu0 > 0
    m0, vs = mu0[supp], v[supp]

    def div(mu):
        if divergence == "kl":
            mu = np.maximum(mu, 1e-300)
            return float(np.sum(mu * np.log(mu / m0)))
        return float(np.sum((mu - m0) ** 2 / m0))

    if divergence not in ("kl", "chi2"):
        raise ValueError(f"divergence {divergence!r} is not one of {DIVERGENCES}")
    cons = [{"type": "eq", "fun": lambda mu: mu.sum() - 1.0}]
    if penalised:
        fun = lambda mu: float(vs @ mu) + radius * div(mu)  # noqa: E731
    else:
        fun = lambda mu: float(vs @ mu)  # noqa: E731
        cons.append({"type": "ineq", "fun": lambda mu: radius - div(mu)})
    best = None
    for start in (m0, 0.5 * m0 + 0.5 * np.eye(m0.size)[np.argmin(vs)]):
        res = minimize(fun, start, method="SLSQP", bounds=[(1e-12, 1)] * m0.size,
                       constraints=cons, options={"ftol": 1e-13, "maxiter": 1000})
        if best is None or (res.fun < best.fun and (penalised or div(res.x) <= radius + 1e-7)):
            best = res
    mu = np.zeros(n)
    mu[supp] = best.x
    return float(best.fun), mu


# ---------------------------------------------------------------- models --------------
@dataclass(frozen=True)
class DRectModel:
    """A finite d-rectangular linear MDP: phi (S, A, d), mu (H, d, S), theta (H, d)."""

    phi: np.ndarray
    mu: np.ndarray
    theta: np.ndarray
    initial: np.ndarray

    def __post_init__(self):
        S, A, d = self.phi.shape
        H = self.theta.shape[0]
        if self.mu.shape != (H, d, S) or self.theta.shape != (H, d):
            raise ValueError(f"need mu (H, d, S) = {(H, d, S)} and theta (H, d); got "
                             f"{self.mu.shape}, {self.theta.shape}")
        if np.any(self.phi < 0) or not np.allclose(self.phi.sum(-1), 1.0):
            raise ValueError("every phi(s, a) must be a probability vector")
        if np.any(self.mu < 0) or not np.allclose(self.mu.sum(-1), 1.0):
            raise ValueError("every factor mu[h, i] must be a probability distribution")
        if self.initial.shape != (S,) or not np.isclose(self.initial.sum(), 1.0):
            raise ValueError(f"initial must be a distribution over {S} states")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        S, A, d = self.phi.shape
        return self.theta.shape[0], S, A, d

    def transitions(self) -> np.ndarray:
        """P[h, s, a, s'] of the nominal model."""
        return np.einsum("sai,hit->hsat", self.phi, self.mu)

    def rewards(self) -> np.ndarray:
        """R[h, s, a]."""
        return np.einsum("sai,hi->hsa", self.phi, self.theta)


@dataclass(frozen=True)
class RobustSolution:
    V: np.ndarray       # (H+1, S) regularised robust values, V[H] = 0
    Q: np.ndarray       # (H, S, A)
    nu: np.ndarray      # (H, d) worst-case factor expectations
    policy: np.ndarray  # (H, S, A)

    def value(self, initial: np.ndarray) -> float:
        return float(initial @ self.V[0])


def _rho_grid(rho, H: int, d: int) -> np.ndarray:
    r = np.asarray(rho, dtype=np.float64)
    try:
        r = np.broadcast_to(r, (H, d)).copy()
    except ValueError as exc:
        raise ValueError(f"rho must be a scalar or broadcast to (H, d) = {(H, d)}, "
                         f"got shape {r.shape}") from exc
    if np.any(r < 0) or not np.all(np.isfinite(r)):
        raise ValueError(f"rho must be finite and >= 0, got {rho!r}")
    return r


def _reference(pi_ref, H: int, S: int, A: int) -> np.ndarray:
    if pi_ref is None:
        return np.full((H, S, A), 1.0 / A)
    p = np.broadcast_to(np.asarray(pi_ref, dtype=np.float64), (H, S, A))
    if np.any(p <= 0) or not np.allclose(p.sum(-1), 1.0):
        raise ValueError("pi_ref must be a strictly positive distribution over actions")
    return p


def softmax_policy(Q: np.ndarray, beta: float, pi_ref: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """(policy, value) of max_pi <pi, Q> - beta KL(pi || pi_ref) along the last axis."""
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if beta == 0:
        best = Q.max(-1, keepdims=True)
        greedy = (Q >= best - 1e-12).astype(np.float64)
        first = np.zeros_like(Q)
        np.put_along_axis(first, np.argmax(greedy, axis=-1)[..., None], 1.0, axis=-1)
        return first, best[..., 0]
    z = Q / beta + np.log(pi_ref)
    m = z.max(-1, keepdims=True)
    e = np.exp(z - m)
    tot = e.sum(-1, keepdims=True)
    return e / tot, beta * (m[..., 0] + np.log(tot[..., 0]))


def _backward(model: DRectModel, rho, divergence, penalised, beta, pi_ref, policy):
    H, S, A, d = model.shape
    rho = _rho_grid(rho, H, d)
    ref = _reference(pi_ref, H, S, A)
    V = np.zeros((H + 1, S))
    Q = np.zeros((H, S, A))
    nu = np.zeros((H, d))
    pol = np.zeros((H, S, A))
    for h in range(H - 1, -1, -1):
        nxt = V[h + 1]
        mu = model.mu[h]
        plain = mu @ nxt
        active = rho[h] > 0
        nu[h] = plain
        if np.any(active):
            # Mass may move to any state under TV, so the floor is the global minimum.
            nu[h, active] = worst_case(mu[active], nxt, rho[h, active], divergence,
                                       penalised, v_min=float(nxt.min()))
        Q[h] = model.phi @ (model.theta[h] + nu[h])
        if policy is None:
            pol[h], V[h] = softmax_policy(Q[h], beta, ref[h])
        else:
            p = policy[h]
            kl = 0.0
            if beta > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    kl = np.where(p > 0, p * np.log(p / ref[h]), 0.0).sum(-1)
            pol[h] = p
            V[h] = (p * Q[h]).sum(-1) - beta * kl
    return RobustSolution(V, Q, nu, pol)


def robust_value_iteration(model: DRectModel, rho=0.0, divergence: str = "tv",
                           penalised: bool = False, beta: float = 0.0,
                           pi_ref=None) -> RobustSolution:
    """Optimal (beta = 0) or KL-regularised robust values and policy, exactly.

    `rho` is a scalar or an (H, d) array of per-step, per-factor radii (penalty weights
    sigma when `penalised`); factors with entry 0 are not perturbed (in both modes), so a
    mask of the uncertain factors is written as an array with zeros elsewhere.
    """
    return _backward(model, rho, divergence, penalised, beta, pi_ref, None)


def robust_policy_evaluation(model: DRectModel, policy, rho=0.0, divergence: str = "tv",
                             penalised: bool = False, beta: float = 0.0,
                             pi_ref=None) -> RobustSolution:
    """Robust (regularised when beta > 0) value of a fixed policy (H, S, A)."""
    H, S, A, _ = model.shape
    p = np.asarray(policy, dtype=np.float64)
    if p.shape != (H, S, A) or np.any(p < 0) or not np.allclose(p.sum(-1), 1.0):
        raise ValueError(f"policy must be (H, S, A) = {(H, S, A)} distributions over actions")
    return _backward(model, rho, divergence, penalised, beta, pi_ref, p)


def tv_worst_case_model(model: DRectModel, policy, rho) -> DRectModel:
    """The nominal model with every factor replaced by its TV-worst case for `policy`.

    Per step and factor, mass rho is moved from the highest-value next states (values of
    the policy's robust evaluation) onto the lowest-value state: the primal minimiser.
    Plain evaluation of `policy` in the returned model equals its TV-robust value.
    """
    H, S, A, d = model.shape
    rho = _rho_grid(rho, H, d)
    V = robust_policy_evaluation(model, policy, rho=rho, divergence="tv").V
    mu = model.mu.copy()
    for h in range(H):
        order = np.argsort(-V[h + 1], kind="stable")      # best first
        worst = int(np.argmin(V[h + 1]))
        for i in range(d):
            budget = min(rho[h, i], 1.0 - mu[h, i, worst])
            for s in order:
                if budget <= 0 or s == worst:
                    continue
                take = min(budget, mu[h, i, s])
                mu[h, i, s] -= take
                mu[h, i, worst] += take
                budget -= take
    return DRectModel(phi=model.phi, mu=mu, theta=model.theta, initial=model.initial)


def finite_horizon_values(P: np.ndarray, R: np.ndarray, policy=None) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Plain dynamic programming on P[h, s, a, s'], R[h, s, a]: (V (H+1, S), policy).

    With `policy` None the optimal values and a greedy policy; otherwise the policy's values.
    """
    H, S, A, _ = P.shape
    V = np.zeros((H + 1, S))
    pol = np.zeros((H, S, A))
    for h in range(H - 1, -1, -1):
        Q = R[h] + P[h] @ V[h + 1]
        if policy is None:
            pol[h] = np.eye(A)[Q.argmax(-1)]
        else:
            pol[h] = policy[h]
        V[h] = (pol[h] * Q).sum(-1) if policy is not None else Q.max(-1)
    return V, pol
