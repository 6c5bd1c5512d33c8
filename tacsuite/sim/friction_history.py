"""Adjoint of a sequence of frictional load steps (`friction_statics`), back through the anchors.

With friction the equilibrium of a load step depends on the earlier steps through the
anchors it starts from. Step s solves f(x_s; A_s, theta, p_s) = 0 (A_s the anchors, theta
the material, contact and friction parameters, p_s the indenter's position in the gel's
frame), and its anchors come from the step before:

- a node in contact at the end of step s-1 carries its anchor on the indenter:
  A_s = p_s + M (G(x_{s-1}, A_{s-1}, theta, p_{s-1}) - p_{s-1}), with G the return
  mapping's dragged anchor (sticking: x - P (x - A); slipping: x - kappa u/|u|,
  kappa = mu f_n / (kt area) the spring's capped stretch) and M the indenter's rotation
  between the two steps (both in the gel's frame);
- a node the step's predictor put onto the indenter is anchored where it landed:
  A_s = x_pred + step(x_pred, p_s), x_pred = X + c (Q x_{s-1} - X) (c the predictor's
  scale, Q the gel frame's rotation between the steps); the derivative by p_s is the
  solver's `ajac`, and dA_s/dx_pred = I - ajac;
- a node that first touches during the stick/slip passes is anchored at an intermediate
  iterate: that anchor is held fixed (the one approximation left; such nodes are few, at
  the rim of the contact).

Reverse: from x_bar of the last step, each step solves K_s^T w_s = x_bar_s (the solver's
checked adjoint), adds w_s . df/dtheta and df/dp_s, and passes A_bar_s = Kt w_s (Kt the
friction tangent, df/dA = Kt) back through the maps above into x_bar_{s-1} and
A_bar_{s-1}. The tangents drop the turning of the contact plane with the normal, as the
one-step adjoint does (relative size |stretch| / indenter radius).

Assumed: the same parameters in every step of the sequence (a press, an identification
sweep) and the stick/slip split, the contact set and the slip directions of each step as
they were solved (events are not differentiated).
"""

import numpy as np

_STATE = ("x", "state", "anchor", "anchor_next", "load", "ajac", "lim")


def snapshot(gel, frames, scale) -> dict:
    """The converged state of one load step, with the frames (Rg, pg, Rr, pr) it was solved
    in and the predictor scale it started from (None: no scaling)."""
    snap = {k: getattr(gel, k).to_numpy().astype(np.float64) for k in _STATE}
    snap["state"] = snap["state"].astype(np.int32)
    snap["frames"] = tuple(np.asarray(f, dtype=np.float64) for f in frames)
    snap["scale"] = 1.0 if scale is None else float(scale)
    return snap


def restore(gel, snap) -> None:
    """Put a step's state and indenter pose back into the solver."""
    for k in _STATE:
        getattr(gel, k).from_numpy(snap[k].astype(np.int32 if k == "state" else gel.npf))
    Rg, pg, Rr, pr = snap["frames"]
    gel.indenter.set_rotation(Rg.T @ Rr)
    gel.indenter.set_pose(Rg.T @ (pr - pg))


def _geometry(gel, snap):
    """Per contact node at the step's state: x, phi, n, P, the free-dof mask."""
    m = len(gel.contact_nodes)
    nodes = gel.contact_nodes
    phi, n = gel.contact_geometry()
    x = snap["x"][nodes]
    P = np.eye(3) - n[:, :, None] * n[:, None, :]
    free = 1.0 - gel.fixed.to_numpy().astype(np.float64)[nodes]
    return m, nodes, x, phi[:m], n[:m], P, free


def _params(gel):
    return float(gel.mu_f[None]), float(gel.kt[None]), float(gel.kn[None])


def anchor_adjoint(gel, snap, w, force_seed: bool) -> np.ndarray:
    """(m, 3) A_bar = Kt (w on the free dofs) per contact node at a restored step; with
    `force_seed` also the anchors' part of the friction's z force (minus Kt e_z)."""
    m, nodes, x, phi, n, P, free = _geometry(gel, snap)
    mu, kt, kn = _params(gel)
    area = gel.carea.to_numpy().astype(np.float64)[:m]
    state = snap["state"][:m]
    A = snap["anchor"][:m]
    Kt = np.zeros((m, 3, 3))
    stick = state == 1
    Kt[stick] = kt * area[stick, None, None] * P[stick]
    load = snap["load"][:m]
    ln = np.linalg.norm(load, axis=1)
    slip = (state == 2) & (phi < 0) & (ln > 0)
    if slip.any():
        t = load[slip] / ln[slip, None]
        u = np.einsum("kij,kj->ki", P[slip], x[slip] - A[slip])
        c = -mu * kn * area[slip] * phi[slip] / np.maximum(np.linalg.norm(u, axis=1), 1e-300)
        Kt[slip] = c[:, None, None] * (P[slip] - t[:, :, None] * t[:, None, :])
    seed = w[nodes] * free
    if force_seed:
        seed = seed - np.array([0.0, 0.0, 1.0]) * free
    return np.einsum("kij,kj->ki", Kt, seed)


def drag_adjoint(gel, snap, b):
    """Reverse of the dragged anchors G of a restored step for the adjoint b (m, 3) of G.

    Returns (x_bar (m, 3) per contact node, A_bar (m, 3) of the step's own anchors,
    {"mu_f", "kt", "kn"}, p_bar (3,) of the step's indenter position).
    """
    m, nodes, x, phi, n, P, free = _geometry(gel, snap)
    mu, kt, kn = _params(gel)
    area = gel.carea.to_numpy().astype(np.float64)[:m]
    state = snap["state"][:m]
    A = snap["anchor"][:m]
    xb, ab = np.zeros((m, 3)), np.zeros((m, 3))
    theta, pb = {"mu_f": 0.0, "kt": 0.0, "kn": 0.0}, np.zeros(3)
    stick = state == 1
    nn = np.einsum("ki,kj->kij", n, n)
    # sticking: G = x - P (x - A): dG/dx = n n^T, dG/dA = P
    xb[stick] = np.einsum("kij,kj->ki", nn[stick], b[stick])
    ab[stick] = np.einsum("kij,kj->ki", P[stick], b[stick])
    u = np.einsum("kij,kj->ki", P, x - A)
    un = np.linalg.norm(u, axis=1)
    slip = (state == 2) & (phi < 0) & (un > 0)
    xb[(state == 2) & ~slip] = b[(state == 2) & ~slip]     # out of contact: G = x
    if slip.any():
        uh = u[slip] / un[slip, None]
        kappa = -mu * kn * area[slip] * phi[slip] / (kt * area[slip])
        bs = b[slip]
        ub = np.einsum("ki,ki->k", uh, bs)
        # (I - u u^T) b projected on the tangent plane, times kappa / |u|
        turn = (kappa / un[slip])[:, None] * np.einsum(
            "kij,kj->ki", P[slip], bs - uh * ub[:, None])
        xb[slip] = bs + (mu * kn / kt) * n[slip] * ub[:, None] - turn
        ab[slip] = turn
        theta["mu_f"] = float(np.sum(-(kappa / mu) * ub)) if mu > 0 else 0.0
        theta["kt"] = float(np.sum((kappa / kt) * ub))
        theta["kn"] = float(np.sum(-(kappa / kn) * ub))
        pb = -(mu * kn / kt) * np.sum(n[slip] * ub[:, None], axis=0)
    return xb * free, ab, theta, pb


def carried(prev, cur, m) -> tuple[np.ndarray, np.ndarray]:
    """Masks (m,) of the nodes whose anchor step `cur` carried from `prev`, and of those its
    predictor placed."""
    on_prev = prev["state"][:m] != 0
    placed = (~on_prev) & (cur["state"][:m] != 0) & (np.abs(cur["ajac"][:m]).sum((1, 2)) > 0)
    return on_prev, placed


def step_maps(prev, cur):
    """(M, Q): the indenter's rotation and the gel frame's rotation from step prev to step
    cur, as they act on gel-frame vectors."""
    Rg0, _, Rr0, _ = prev["frames"]
    Rg1, _, Rr1, _ = cur["frames"]
    return Rg1.T @ Rr1 @ Rr0.T @ Rg0, Rg1.T @ Rg0


def sequence_gradients(gel, snaps, dL_dx=None, rtol=None, max_cg: int = 20000) -> dict:
    """Derivatives of the last step's normal force (dL_dx None) or of a loss of the
    equilibria, through every recorded step (`snaps`, oldest first; see the module).

    dL_dx: (n, 3), a loss L(x_S) of the last step's equilibrium, or (S, n, 3), a loss
    L(x_1, ..., x_S) of every step's (gel frame); a step's seed adds to the adjoint that
    comes back from the steps after it.

    Returns the solver's names (mu, lam, kn, mu_f, kt; a force's scaled to the whole
    model like `force_gradients`), "position" (the last step's indenter position) and
    "positions" (one (3,) per step), all in the gel's frame; leaves the last step loaded.
    """
    force = dL_dx is None
    names = ("mu", "lam", "kn", "mu_f", "kt")
    total = dict.fromkeys(names, 0.0)
    S, m, nodes = len(snaps), len(gel.contact_nodes), gel.contact_nodes
    seeds = [None] * S
    if not force:
        g = np.asarray(dL_dx, dtype=np.float64)
        if g.ndim == 3:
            if g.shape[0] != S:
                raise ValueError(f"per-step dL_dx has {g.shape[0]} steps, the history {S}")
            seeds = list(g)
        else:
            seeds[-1] = g
    pos = [np.zeros(3) for _ in snaps]
    free = 1.0 - gel.fixed.to_numpy().astype(np.float64)
    xbar, abar_in = None, np.zeros((m, 3))
    try:
        for s in range(S - 1, -1, -1):
            snap, last = snaps[s], s == S - 1
            restore(gel, snap)
            if last and force:
                gel.force_x_gradient(gel.tmp)
            else:
                rhs = np.zeros((gel.n, 3)) if last else xbar
                if seeds[s] is not None:
                    rhs = rhs + seeds[s] * free
                gel.tmp.from_numpy(rhs.astype(gel.npf))
            gel.adjoint_solve(gel.tmp, rtol, max_cg)
            g = gel._adjoint_gradients()
            if last and force:
                for k, v in gel.force_partials().items():
                    g[k] = g[k] + v
            for k in names:
                total[k] += float(g.get(k, 0.0))
            pos[s] += np.asarray(g["position"], dtype=np.float64)
            if s == 0:
                break
            w = gel.w.to_numpy().astype(np.float64)
            abar = anchor_adjoint(gel, snap, w, force_seed=last and force) + abar_in
            prev = snaps[s - 1]
            on_prev, placed = carried(prev, snap, m)
            M, Q = step_maps(prev, snap)
            xbar = np.zeros((gel.n, 3))
            if placed.any():
                J = snap["ajac"][:m][placed]
                v = abar[placed] - np.einsum("kji,kj->ki", J, abar[placed])
                np.add.at(xbar, nodes[placed], snap["scale"] * (v @ Q))
            bG = np.zeros((m, 3))
            bG[on_prev] = abar[on_prev] @ M
            pos[s - 1] -= bG.sum(axis=0)
            restore(gel, prev)
            xb, abar_in, th, pb = drag_adjoint(gel, prev, bG)
            np.add.at(xbar, nodes, xb)
            xbar *= free
            for k, v in th.items():
                total[k] += v
            pos[s - 1] += pb
    finally:
        restore(gel, snaps[-1])
    mult = 2 ** len(gel.symmetry_planes) if force else 1
    out = {k: mult * v for k, v in total.items()}
    out["positions"] = [mult * p for p in pos]
    out["position"] = out["positions"][-1]
    return out
