"""Quasi-static contact with Coulomb friction: sticking springs capped by mu times the normal force.

Each contact node that touches the indenter gets an anchor, the point of the indenter's
surface where it touched. While it sticks, a tangential penalty spring pulls it back to
its anchor, f_t = -kt A P (x - anchor), with P = I - n n^T the projection onto the contact
tangent plane (n the indenter's outward normal at the node; the same law as
`contact.penalty_friction`). Coulomb's law caps the spring at mu f_n,
f_n = kn A (-phi) the node's normal penalty force; a node whose spring would exceed the
cap slips: it carries the tangential force mu f_n along its stretch and its anchor is
dragged so that the spring sits exactly at the cap (backward-Euler return mapping from
the anchor the step started with). Anchors are material points of the indenter: between
load steps they move with it (`world_statics`), so a slide or a twist of the indenter
drags the sticking nodes along.

Solution of one load step: with the caps held at given values the friction is a Tresca
law, the gradient of a convex C1 energy per node (the spring's up to the cap, growing
linearly in |u| beyond it), and Newton-PCG with the energy line search of
`QuasiStaticGel.solve` finds the stick/slip split itself (up to the turning of P with the
normal, second order in the small spring stretch). The passes then set each cap to mu f_n
at the new state and solve again until no cap changes by more than `tol` of the largest
(a fixed point on the normal forces only, which move little with friction). Nodes that
lose contact carry no friction (their cap is zero).

The indenter's force is the sum of the normal and the friction forces (friction in the
tangent plane of a curved indenter has a vertical part); its torque about the indenter's
reference point is read out too.

Gradients (`force_gradients`, `loss_gradients`) of one load step: the stick/slip split and
the slip directions are those of the converged state; a slipping node's force
mu kn A (-phi(x)) t has the tangent mu kn A t n^T, not symmetric, so the adjoint system
K^T w = b is solved by the fixed point S w = b - N^T w (S the symmetric part, one
preconditioned CG solve each), checked for convergence. The indenter position moves the
anchors as well (`ajac`: carried anchors ride on it; a node the predictor put onto the
indenter is anchored where the projection put it). Through several load steps,
`friction_history` takes the adjoint back through the anchors of every step.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact import tangential_part
from tacsuite.sim.statics import GradientNotConverged, NotConverged, QuasiStaticGel

ti = import_taichi()


class FrictionNotConverged(NotConverged):
    """The stick/slip fixed point of a load step did not settle."""


@ti.data_oriented
class FrictionalQuasiStaticGel(QuasiStaticGel):
    """`QuasiStaticGel` plus sticking/slipping Coulomb friction (coefficient `mu_f`)."""

    def __init__(self, mesh, E, nu, kn, indenter, mu_f: float, kt: float | None = None, **kw):
        super().__init__(mesh, E, nu, kn, indenter, **kw)
        f = self.dtype
        self.anchor = ti.Vector.field(3, f, shape=self.k)    # anchor at the step's start
        self.anchor_next = ti.Vector.field(3, f, shape=self.k)  # ... dragged by its slip
        self.load = ti.Vector.field(3, f, shape=self.k)     # tangential load of slipping nodes
        self.state = ti.field(ti.i32, shape=self.k)          # 0 free, 1 stick, 2 slip
        self.mu_f, self.kt = ti.field(f, shape=()), ti.field(f, shape=())
        self.red = ti.field(ti.f64, shape=())              # target of atomic maxima
        self.lim = ti.field(f, shape=self.k)               # each node's cap in this pass
        self.fric = ti.Vector.field(3, f, shape=self.k)    # friction force on each node
        # d(anchor)/d(indenter position) of each node in this load step: identity for an
        # anchor carried from an earlier step (it rides on the indenter), the derivative of
        # the projection that placed it for a node that touched in this step's predictor.
        self.ajac = ti.Matrix.field(3, 3, f, shape=self.k)
        self._phi = ti.field(ti.f64, shape=self.k)
        self._normal = ti.Vector.field(3, ti.f64, shape=self.k)
        # Scratch fields are made once: Taichi keeps every field made after a launch in a
        # tree of its own, and a process runs out of trees (a crash) after some hundreds.
        self._rhs = ti.Vector.field(3, f, shape=self.n)
        self.set_friction(mu_f, kt if kt is not None else kn)

    def set_friction(self, mu_f: float, kt: float) -> None:
        if not (mu_f >= 0 and np.isfinite(mu_f)):
            raise ValueError(f"friction coefficient must be >= 0 and finite, got {mu_f!r}")
        if not (kt > 0 and np.isfinite(kt)):
            raise ValueError(f"tangential stiffness kt must be positive, got {kt!r}")
        self.mu_f[None], self.kt[None] = float(mu_f), float(kt)
        self.reset()

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "state"):
            self.state.fill(0)
            self.load.fill(0)
            self.ajac.fill(0)
            self.lim.fill(0)

    # ----- friction kernels -------------------------------------------------------------
    @ti.func
    def friction_law(self, k, x: ti.template()):
        """(force, symmetric tangent, energy) of contact node k at positions x: the spring
        to its anchor capped at `lim` (a Tresca bound; the passes make it mu f_n).

        Within its cap the spring sticks: f = -kt A u, tangent kt A P (u = P (x - anchor)).
        Beyond, it slips: f = -lim u/|u|, whose tangent across the slip direction is
        lim / |u| (P - u u^T/|u|^2). The energy is the spring's up to the cap and grows
        linearly with |u| beyond it (C1), so Newton's energy line search applies.
        """
        i = self.cidx[k]
        _, n = self.indenter.sdf(x[i], 0)
        f = ti.Vector.zero(self.dtype, 3)
        K = ti.Matrix.zero(self.dtype, 3, 3)
        e = ti.cast(0.0, ti.f64)
        if self.state[k] != 0:
            kta, lim = self.kt[None] * self.carea[k], self.lim[k]
            u = tangential_part(x[i] - self.anchor[k], n)
            un = u.norm()
            P = ti.Matrix.identity(self.dtype, 3) - n.outer_product(n)
            if kta * un <= lim:
                f, K = -kta * u, kta * P
                e = ti.cast(0.5 * kta * un * un, ti.f64)
            else:
                uh = u / un
                f = -lim * uh
                K = lim / un * (P - uh.outer_product(uh))
                e = ti.cast(lim * un - 0.5 * lim * lim / kta, ti.f64)
        return f, K, e

    @ti.func
    def node_friction(self, k, x: ti.template()):
        """Friction force on contact node k at positions x."""
        f, _K, _e = self.friction_law(k, x)
        return f

    @ti.kernel
    def friction_force(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            out[self.cidx[k]] += self.node_friction(k, x)

    @ti.kernel
    def friction_energy(self, x: ti.template()) -> ti.f64:
        total = ti.cast(0.0, ti.f64)
        for k in range(self.k):
            _f, _K, e = self.friction_law(k, x)
            total += e
        return total

    @ti.func
    def friction_tangent(self, k, x: ti.template()):
        """Symmetric friction tangent of node k (see `friction_law`)."""
        _f, K, _e = self.friction_law(k, x)
        return K

    @ti.func
    def friction_stiffness_product(self, x: ti.template(), p: ti.template(),
                                   out: ti.template()):
        for k in range(self.k):
            i = self.cidx[k]
            out[i] += self.friction_tangent(k, x) @ p[i]

    @ti.kernel
    def friction_diagonal(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            i = self.cidx[k]
            Kt = self.friction_tangent(k, x)
            for a in ti.static(range(3)):
                out[i][a] += Kt[a, a]

    @ti.kernel
    def attach_new_contacts(self, x: ti.template()):
        """Nodes touching the indenter for the first time stick where they are."""
        for k in range(self.k):
            i = self.cidx[k]
            phi, _ = self.indenter.sdf(x[i], 0)
            if phi < 0 and self.state[k] == 0:
                self.state[k] = 1
                self.anchor[k] = x[i]
                self.anchor_next[k] = x[i]
                self.load[k] = ti.Vector.zero(self.dtype, 3)
                self.ajac[k] = ti.Matrix.zero(self.dtype, 3, 3)
                self.lim[k] = -self.mu_f[None] * self.kn[None] * self.carea[k] * phi

    @ti.kernel
    def project_contact(self):
        """The predictor of `QuasiStaticGel`, and a node it puts onto the indenter for the
        first time sticks there (where it touched), not where the next solve leaves it.

        The indenter comes down along -z, so a node first meets it straight above where
        it now penetrates: it is moved along z onto the surface (along the normal where
        the surface is steep), which keeps the anchor free of a spurious radial offset.
        """
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(self.x[i], 0)
            if phi < 0:
                Hn = self.indenter.sdf_hessian(self.x[i], 0)
                step = -phi * n
                # d(step)/d(indenter position), with dphi/dp = -n^T and dn/dp = -H
                J = n.outer_product(n) + phi * Hn
                if n[2] < -0.5:
                    step = ti.Vector([0.0, 0.0, -phi / n[2]], self.dtype)
                    ez = ti.Vector([0.0, 0.0, 1.0], self.dtype)
                    hz = ti.Vector([Hn[2, 0], Hn[2, 1], Hn[2, 2]])
                    J = ez.outer_product(n / n[2] - phi / (n[2] * n[2]) * hz)
                self.x[i] += step * (1.0 - self.fixed[i])
                if self.state[k] == 0 and self.mu_f[None] > 0:
                    self.state[k] = 1
                    self.anchor[k] = self.x[i]
                    self.anchor_next[k] = self.x[i]
                    self.load[k] = ti.Vector.zero(self.dtype, 3)
                    self.lim[k] = -self.mu_f[None] * self.kn[None] * self.carea[k] * phi
                    for r, c in ti.static(ti.ndrange(3, 3)):   # fixed dofs do not move
                        J[r, c] *= 1.0 - self.fixed[i][r]
                    self.ajac[k] = J

    @ti.kernel
    def update_caps(self, x: ti.template()) -> ti.f64:
        """Coulomb's cap mu f_n of every anchored node at x; returns the largest change."""
        # The maximum is taken with an atomic on a field: `m = ti.max(m, v)` on a kernel
        # scalar inside the parallel loop is a data race (threads overwrite each other).
        self.red[None] = 0.0
        for k in range(self.k):
            if self.state[k] != 0:
                phi, _ = self.indenter.sdf(x[self.cidx[k]], 0)
                new = self.mu_f[None] * ti.max(-self.kn[None] * self.carea[k] * phi, 0.0)
                ti.atomic_max(self.red[None], ti.cast(ti.abs(new - self.lim[k]), ti.f64))
                self.lim[k] = new
        return self.red[None]

    @ti.kernel
    def finish_step(self, x: ti.template()):
        """Stick/slip split, friction force and dragged anchor of every node at x: a slipping
        node's anchor is pulled along so that its spring sits exactly at the cap (the
        backward-Euler return mapping from the anchor the step started with)."""
        for k in range(self.k):
            if self.state[k] != 0:
                i = self.cidx[k]
                _, n = self.indenter.sdf(x[i], 0)
                u = tangential_part(x[i] - self.anchor[k], n)
                kta = self.kt[None] * self.carea[k]
                s = 1.0 + 0.0 * kta
                if kta * u.norm() > self.lim[k]:
                    s = self.lim[k] / (kta * u.norm())
                self.anchor_next[k] = x[i] - u * s
                self.state[k] = 2 if s < 1 else 1
                self.load[k] = -kta * u * s

    @ti.kernel
    def advance_anchors(self):
        """Start a new load step: each anchor moves to where the last step's slip left it."""
        for k in range(self.k):
            if self.state[k] != 0:
                self.anchor[k] = self.anchor_next[k]

    @ti.kernel
    def max_cap(self, x: ti.template()) -> ti.f64:
        self.red[None] = 0.0
        for k in range(self.k):
            phi, _ = self.indenter.sdf(x[self.cidx[k]], 0)
            ti.atomic_max(self.red[None], ti.cast(-self.mu_f[None] * self.kn[None]
                                                  * self.carea[k] * phi, ti.f64))
        return self.red[None]

    @ti.kernel
    def store_friction(self, x: ti.template()):
        """fric[k] = friction force on contact node k, zero on the fixed dofs."""
        for k in range(self.k):
            i = self.cidx[k]
            self.fric[k] = self.node_friction(k, x) * (1.0 - self.fixed[i])

    # ----- adjoint kernels (one load step: see the module notes) ------------------------
    @ti.func
    def slip_terms(self, k, x: ti.template()):
        """(active, fn, n, t) of a slipping node in contact: force mu fn t."""
        i = self.cidx[k]
        phi, n = self.indenter.sdf(x[i], 0)
        ln = self.load[k].norm()
        active = self.state[k] == 2 and phi < 0 and ln > 0
        t = self.load[k] / ti.max(ln, 1e-300)
        return active, -self.kn[None] * self.carea[k] * phi, n, t

    @ti.kernel
    def slip_coupling(self, x: ti.template(), w: ti.template(), out: ti.template()):
        """out = b - N^T w, N = mu kn A t n^T the slip tangent's non-symmetric part (b in out)."""
        for k in range(self.k):
            active, fn, n, t = self.slip_terms(k, x)
            if active:
                i = self.cidx[k]
                wi = w[i] * (1.0 - self.fixed[i])
                out[i] -= self.mu_f[None] * self.kn[None] * self.carea[k] * n * t.dot(wi)

    @ti.kernel
    def friction_adjoint_partials(self, x: ti.template(),
                                  w: ti.template()) -> ti.types.vector(6, ti.f64):
        """w . d(friction)/d(mu_f, kt, kn, indenter position (3)); the position moves the
        anchors by `ajac`."""
        out = ti.Vector.zero(ti.f64, 6)
        for k in range(self.k):
            i = self.cidx[k]
            wi = w[i] * (1.0 - self.fixed[i])
            if self.state[k] == 1:
                f = self.node_friction(k, x)
                out[1] += ti.cast(f.dot(wi) / self.kt[None], ti.f64)
            # d(friction)/d(anchor) = the friction tangent Kt (symmetric)
            ga = self.ajac[k].transpose() @ (self.friction_tangent(k, x) @ wi)
            out += ti.cast(ti.Vector([0.0, 0.0, 0.0, ga[0], ga[1], ga[2]]), ti.f64)
            active, fn, n, t = self.slip_terms(k, x)
            if active:
                tw = t.dot(wi)
                g = self.mu_f[None] * self.kn[None] * self.carea[k] * n * tw
                out += ti.cast(ti.Vector([fn * tw, 0.0, self.mu_f[None] * fn / self.kn[None]
                                          * tw, g[0], g[1], g[2]]), ti.f64)
        return out

    @ti.kernel
    def friction_force_gradient(self, x: ti.template(), out: ti.template()):
        """out += dF_fric/dx with F_fric = -sum (friction on the nodes)_z (quarter model)."""
        ez = ti.Vector([0.0, 0.0, 1.0], self.dtype)
        for k in range(self.k):
            i = self.cidx[k]
            out[i] += self.friction_tangent(k, x) @ ez
            active, fn, n, t = self.slip_terms(k, x)
            if active:
                out[i] += self.mu_f[None] * self.kn[None] * self.carea[k] * n * t[2]

    @ti.kernel
    def friction_force_partials(self, x: ti.template()) -> ti.types.vector(6, ti.f64):
        """Partials of F_fric at fixed x by (mu_f, kt, kn, indenter position (3)), the
        anchors moving by `ajac`."""
        out = ti.Vector.zero(ti.f64, 6)
        ez = ti.Vector([0.0, 0.0, 1.0], self.dtype)
        for k in range(self.k):
            i = self.cidx[k]
            if self.state[k] == 1:
                out[1] += ti.cast(-self.node_friction(k, x)[2] / self.kt[None], ti.f64)
            ga = -(self.ajac[k].transpose()
                   @ (self.friction_tangent(k, x) @ (ez * (1.0 - self.fixed[i]))))
            out += ti.cast(ti.Vector([0.0, 0.0, 0.0, ga[0], ga[1], ga[2]]), ti.f64)
            active, fn, n, t = self.slip_terms(k, x)
            if active:
                g = -self.mu_f[None] * self.kn[None] * self.carea[k] * n * t[2]
                out += ti.cast(ti.Vector([-fn * t[2], 0.0, -self.mu_f[None] * fn
                                          / self.kn[None] * t[2], g[0], g[1], g[2]]), ti.f64)
        return out

    # ----- operators used by the Newton solver ------------------------------------------
    def contact_force(self, x, out):
        self.normal_contact_force(x, out)
        self.friction_force(x, out)

    def contact_energy(self, x):
        return self.normal_contact_energy(x) + self.friction_energy(x)

    @ti.func
    def contact_stiffness_product(self, x: ti.template(), p: ti.template(), out: ti.template()):
        self.normal_contact_stiffness_product(x, p, out)
        self.friction_stiffness_product(x, p, out)

    def contact_diagonal(self, x, out):
        self.normal_contact_diagonal(x, out)
        self.friction_diagonal(x, out)

    # ----- adjoint operators -----------------------------------------------------------
    def adjoint_solve(self, rhs, rtol=None, max_cg: int = 20000, max_outer: int = 60) -> dict:
        """w with K^T w = rhs, K the frictional tangent at the converged state (checked)."""
        if rtol is None:
            rtol = 1e-12 if self.dtype == ti.f64 else 1e-5
        b = self._rhs
        b.copy_from(rhs)
        w_prev = np.zeros((self.n, 3))
        bn = max(np.sqrt(self.dot(b, b)), 1e-300)
        try:
            info, change = {}, np.inf
            for outer in range(1, max_outer + 1):
                rhs.copy_from(b)
                if outer > 1:
                    self.slip_coupling(self.x, self.w, rhs)
                info = super().adjoint_solve(rhs, rtol, max_cg)
                w = self.w.to_numpy().astype(np.float64)
                change = np.linalg.norm(w - w_prev) / max(np.linalg.norm(w), 1e-300)
                w_prev = w
                if change <= max(10 * rtol, 1e-14) or not self.any_slip():
                    info["outer"] = outer
                    return info
        finally:
            rhs.copy_from(b)
        raise GradientNotConverged(
            f"the friction adjoint did not settle in {max_outer} passes (last relative change "
            f"{change:.3g}, |rhs| {bn:.3g}): the slipping nodes' coupling is too strong for "
            "the fixed point; lower the friction coefficient or the contact stiffness")

    @ti.kernel
    def _count_slip(self, x: ti.template()) -> ti.i32:
        c = 0
        for k in range(self.k):
            active, _, _, _ = self.slip_terms(k, x)
            if active:
                c += 1
        return c

    def any_slip(self) -> bool:
        return self._count_slip(self.x) > 0

    def contact_partials(self) -> dict:
        out = super().contact_partials()
        v = self.friction_adjoint_partials(self.x, self.w)
        out["mu_f"], out["kt"] = float(v[0]), float(v[1])
        out["kn"] += float(v[2])
        out["position"] = out["position"] + np.array([v[3], v[4], v[5]], dtype=np.float64)
        return out

    def force_x_gradient(self, out) -> None:
        super().force_x_gradient(out)
        self.friction_force_gradient(self.x, out)

    def force_partials(self) -> dict:
        out = super().force_partials()
        v = self.friction_force_partials(self.x)
        out["kn"] += float(v[2])
        out["mu_f"], out["kt"] = float(v[0]), float(v[1])
        out["position"] = out["position"] + np.array([v[3], v[4], v[5]], dtype=np.float64)
        return out

    def friction_vector(self) -> np.ndarray:
        """Friction force on the indenter (quarter model): minus the sum over the nodes."""
        self.store_friction(self.x)
        return -self.fric.to_numpy().astype(np.float64)[: len(self.contact_nodes)].sum(axis=0)

    def friction_torque(self) -> np.ndarray:
        """Torque of the friction forces on the indenter about its reference point."""
        self.store_friction(self.x)
        m = len(self.contact_nodes)
        x = self.x.to_numpy().astype(np.float64)[self.contact_nodes]
        c = self.indenter.pos.to_numpy().astype(np.float64)[0]
        return np.cross(x - c, -self.fric.to_numpy().astype(np.float64)[:m]).sum(axis=0)

    def readout(self) -> dict:
        out = super().readout()
        mult = 2 ** len(self.symmetry_planes)
        f = self.friction_vector()
        out["force"] += mult * float(f[2])
        out["force_vector"] = (np.asarray(out["force_vector"]) + self.mirrored(f)).tolist()
        out["torque_vector"] = (np.asarray(out["torque_vector"])
                                + self.mirrored(self.friction_torque(), pseudo=True)).tolist()
        return out

    def solve_with_friction(self, tol: float = 1e-6, max_passes: int = 60, **kw) -> dict:
        """Solve the current load step to a stick/slip fixed point (see the module notes)."""
        self.advance_anchors()
        self.attach_new_contacts(self.x)
        self.update_caps(self.x)
        newton = []
        for passes in range(1, max_passes + 1):
            newton.append(self.solve(**kw)["newton"])
            self.attach_new_contacts(self.x)
            change = self.update_caps(self.x)
            cap = self.max_cap(self.x)
            if change <= tol * max(cap, 1e-300):
                # Re-solve with the final caps so the reported state is in equilibrium.
                newton.append(self.solve(**kw)["newton"])
                self.finish_step(self.x)
                return {"newton": sum(newton), "passes": passes}
        raise FrictionNotConverged(f"stick/slip iteration did not settle in {max_passes} "
                                   f"passes (last change {change:.3g} N, cap {cap:.3g} N)")

    def friction_readout(self) -> dict:
        """Per contact node: normal force magnitude, tangential force on the gel, state."""
        nodes = self.contact_nodes
        m = len(nodes)
        area = self.contact_area.astype(np.float64)
        phi = self.node_distances()[:m]
        fn = np.maximum(-float(self.kn[None]) * area * phi, 0.0)
        self.store_friction(self.x)
        ft = self.fric.to_numpy().astype(np.float64)[:m]
        state = self.state.to_numpy()[:m]
        ft[state == 0] = 0.0
        return {"node": nodes, "normal": fn, "tangential": ft, "state": state}

    def contact_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """(phi (k,), n (k, 3)): signed distance and indenter normal at each contact node."""
        self._geometry(self.x)
        return self._phi.to_numpy(), self._normal.to_numpy()

    @ti.kernel
    def _geometry(self, x: ti.template()):
        for k in range(self.k):
            phi, n = self.indenter.sdf(x[self.cidx[k]], 0)
            self._phi[k] = ti.cast(phi, ti.f64)
            self._normal[k] = ti.cast(n, ti.f64)

    def node_distances(self) -> np.ndarray:
        """(k,) signed distance of each contact node to the indenter."""
        return self.contact_geometry()[0]
