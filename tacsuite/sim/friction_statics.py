"""Quasi-static contact with Coulomb friction: sticking springs capped by mu times the normal force.

Each contact node that touches the indenter gets an anchor, the point where it first
touched. While it sticks, a tangential penalty spring pulls it back to its anchor,
f_t = -kt A P (x - anchor), with P = I - n n^T the projection onto the contact tangent
plane (n the indenter's outward normal at the node; the same law as
`contact.penalty_friction`). Coulomb's law caps the spring at mu f_n,
f_n = kn A (-phi) the node's normal penalty force; a node whose spring would exceed the
cap slips: it carries the tangential force mu f_n along the direction of its stretch and
its anchor is dragged so that the spring sits exactly at the cap (return mapping,
`contact.coulomb_cap`).

Solution of one load step (an active-set fixed point): Newton-PCG solves the equilibrium
with sticking nodes as springs and slipping nodes as given tangential loads (a
conservative problem up to the turning of P with the normal, second order in the small
spring stretch, so the energy line search of `QuasiStaticGel.solve` applies); the return
mapping then updates anchors, slip loads and the stick/slip split, and the step is
solved again until no node's friction changes by more than `tol` of the largest cap.
Nodes that lose contact carry no friction (their cap mu f_n is zero).

The indenter's force is the sum of the normal and the friction forces (friction in the
tangent plane of a curved indenter has a vertical part).

Gradients (`force_gradients`, `loss_gradients`) hold the contact history fixed: the
stick/slip split, the anchors of sticking nodes and the slip directions of slipping
nodes at the converged state. A slipping node's force is then mu kn A (-phi(x)) t with t
its slip direction, whose tangent mu kn A t n^T is not symmetric; the adjoint system
K^T w = b is solved by the fixed point S w = b - N^T w (S the symmetric part, one
preconditioned CG solve each), checked for convergence. The spring tangent kt A P drops
the turning of P with the normal (relative size |stretch| / indenter radius).
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact import coulomb_cap, tangential_part
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
        self.slip_tangent = ti.field(f, shape=())          # 1: adjoint tangent of slip nodes
        self.fric = ti.Vector.field(3, f, shape=self.k)    # friction force on each node
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

    # ----- friction kernels -------------------------------------------------------------
    @ti.func
    def node_friction(self, k, x: ti.template()):
        """Friction force on contact node k at positions x (stick spring or slip load)."""
        i = self.cidx[k]
        f = ti.Vector.zero(self.dtype, 3)
        if self.state[k] == 1:
            _, n = self.indenter.sdf(x[i], 0)
            f = -self.kt[None] * self.carea[k] * tangential_part(x[i] - self.anchor[k], n)
        elif self.state[k] == 2:
            f = self.load[k]
        return f

    @ti.kernel
    def friction_force(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            out[self.cidx[k]] += self.node_friction(k, x)

    @ti.kernel
    def friction_energy(self, x: ti.template()) -> ti.f64:
        total = ti.cast(0.0, ti.f64)
        for k in range(self.k):
            i = self.cidx[k]
            _, n = self.indenter.sdf(x[i], 0)
            u = tangential_part(x[i] - self.anchor[k], n)
            if self.state[k] == 1:
                total += ti.cast(0.5 * self.kt[None] * self.carea[k] * u.dot(u), ti.f64)
            elif self.state[k] == 2:
                total += ti.cast(-self.load[k].dot(x[i] - self.anchor[k]), ti.f64)
        return total

    @ti.func
    def friction_tangent(self, k, x: ti.template()):
        """Symmetric friction tangent of node k: kt A P sticking; kt A (P - t t^T) for a
        slipping node in contact when `slip_tangent` is set (adjoints), else zero."""
        i = self.cidx[k]
        phi, n = self.indenter.sdf(x[i], 0)
        kta = self.kt[None] * self.carea[k]
        Kt = ti.Matrix.zero(self.dtype, 3, 3)
        if self.state[k] == 1:
            Kt = kta * (ti.Matrix.identity(self.dtype, 3) - n.outer_product(n))
        elif self.state[k] == 2 and phi < 0 and self.slip_tangent[None] > 0:
            t = self.load[k] / ti.max(self.load[k].norm(), 1e-300)
            # The slip force mu f_n turns with the stretch u from the step's anchor:
            # across the slip direction it resists with mu f_n / |u| (<= kt A).
            u = tangential_part(x[i] - self.anchor[k], n)
            c = -self.mu_f[None] * self.kn[None] * self.carea[k] * phi / ti.max(u.norm(), 1e-300)
            Kt = c * (ti.Matrix.identity(self.dtype, 3) - n.outer_product(n)
                      - t.outer_product(t))
        return Kt

    @ti.kernel
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
                step = -phi * n
                if n[2] < -0.5:
                    step = ti.Vector([0.0, 0.0, -phi / n[2]], self.dtype)
                self.x[i] += step * (1.0 - self.fixed[i])
                if self.state[k] == 0 and self.mu_f[None] > 0:
                    self.state[k] = 1
                    self.anchor[k] = self.x[i]
                    self.anchor_next[k] = self.x[i]
                    self.load[k] = ti.Vector.zero(self.dtype, 3)

    @ti.kernel
    def return_mapping(self, x: ti.template()) -> ti.f64:
        """Stick/slip update at the current state; returns the largest friction change.

        The trial force is always the spring to the anchor the load step started from
        (backward-Euler return mapping), so the fixed point does not depend on the passes
        that led to it; `advance_anchors` moves slipped anchors on between load steps.
        """
        # The maximum is taken with an atomic on a field: `m = ti.max(m, v)` on a kernel
        # scalar inside the parallel loop is a data race (threads overwrite each other).
        self.red[None] = 0.0
        for k in range(self.k):
            if self.state[k] != 0:
                i = self.cidx[k]
                phi, n = self.indenter.sdf(x[i], 0)
                fn = -self.kn[None] * self.carea[k] * phi
                u = tangential_part(x[i] - self.anchor[k], n)
                trial = -self.kt[None] * self.carea[k] * u
                old = self.load[k]
                if self.state[k] == 1:
                    old = trial
                s = coulomb_cap(trial, fn, self.mu_f[None])
                if self.state[k] == 2 and trial.dot(old) < 0:
                    # A slipping node pushed back past its anchor by its own dead load is
                    # held by its spring for the next pass (without this, coupled
                    # neighbours can chase each other's dead loads back and forth).
                    s = 1.0
                new = trial * s
                self.anchor_next[k] = x[i] - u * s
                self.state[k] = 2 if s < 1 else 1
                self.load[k] = new
                ti.atomic_max(self.red[None], ti.cast((new - old).norm(), ti.f64))
        return self.red[None]

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

    # ----- adjoint kernels (history fixed: see the module notes) ------------------------
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
        """w . d(friction)/d(mu_f, kt, kn, indenter position (3))."""
        out = ti.Vector.zero(ti.f64, 6)
        for k in range(self.k):
            i = self.cidx[k]
            wi = w[i] * (1.0 - self.fixed[i])
            if self.state[k] == 1:
                f = self.node_friction(k, x)
                out[1] += ti.cast(f.dot(wi) / self.kt[None], ti.f64)
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
        """Partials of F_fric at fixed x by (mu_f, kt, kn, indenter position (3))."""
        out = ti.Vector.zero(ti.f64, 6)
        for k in range(self.k):
            if self.state[k] == 1:
                out[1] += ti.cast(-self.node_friction(k, x)[2] / self.kt[None], ti.f64)
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

    def contact_stiffness_product(self, x, p, out):
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
        b = ti.Vector.field(3, self.dtype, shape=self.n)
        b.copy_from(rhs)
        w_prev = np.zeros((self.n, 3))
        bn = max(np.sqrt(self.dot(b, b)), 1e-300)
        self.slip_tangent[None] = 1.0
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
            self.slip_tangent[None] = 0.0
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
        self.slip_tangent[None] = 1.0
        self.friction_force_gradient(self.x, out)
        self.slip_tangent[None] = 0.0

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

    def readout(self) -> dict:
        out = super().readout()
        mult = 2 ** len(self.symmetry_planes)
        f = self.friction_vector()
        out["force"] += mult * float(f[2])
        out["force_vector"][2] += mult * float(f[2])
        return out

    def solve_with_friction(self, tol: float = 1e-6, max_passes: int = 60, **kw) -> dict:
        """Solve the current load step to a stick/slip fixed point (see the module notes)."""
        self.advance_anchors()
        self.attach_new_contacts(self.x)
        newton = []
        for passes in range(1, max_passes + 1):
            newton.append(self.solve(**kw)["newton"])
            self.attach_new_contacts(self.x)
            change = self.return_mapping(self.x)
            cap = self.max_cap(self.x)
            if change <= tol * max(cap, 1e-300):
                # Re-solve with the final loads so the reported state is in equilibrium.
                newton.append(self.solve(**kw)["newton"])
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

    def node_distances(self) -> np.ndarray:
        out = ti.field(ti.f64, shape=self.k)
        self._distances(self.x, out)
        return out.to_numpy()[: self.k]

    @ti.kernel
    def _distances(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            phi, _ = self.indenter.sdf(x[self.cidx[k]], 0)
            out[k] = ti.cast(phi, ti.f64)
