"""Quasi-static contact with Coulomb friction: sticking springs capped by mu times the normal force.

Each contact node that touches the indenter gets an anchor, the point where it first
touched. While it sticks, a tangential penalty spring pulls it back to its anchor,
f_t = -kt A P (x - anchor), with P the projection onto the plane of the undeformed top
face (horizontal: the gel surface under a shallow press). Coulomb's law caps the
spring at mu f_n, f_n = kn A (-phi) the node's normal penalty force; a node whose spring
would exceed the cap slips: it carries the tangential force mu f_n along the direction of
its stretch and its anchor is dragged so that the spring sits exactly at the cap (return
mapping).

Solution of one load step (an active-set fixed point): Newton-PCG solves the equilibrium
with sticking nodes as springs and slipping nodes as given tangential loads (a
conservative problem, so the energy line search of `QuasiStaticGel.solve` applies); the
return mapping then updates anchors, slip loads and the stick/slip split, and the step is
solved again until no node's friction changes by more than `tol` of the largest cap.
Nodes that lose contact carry no friction (their cap mu f_n is zero).

Horizontal friction leaves the indenter's vertical force the z-component of the normal
penalty forces, read out exactly as without friction.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.statics import QuasiStaticGel

ti = import_taichi()


class FrictionNotConverged(RuntimeError):
    pass


@ti.data_oriented
class FrictionalQuasiStaticGel(QuasiStaticGel):
    """`QuasiStaticGel` plus sticking/slipping Coulomb friction (coefficient `mu_f`)."""

    def __init__(self, mesh, E, nu, kn, indenter, mu_f: float, kt: float | None = None, **kw):
        super().__init__(mesh, E, nu, kn, indenter, **kw)
        f = self.dtype
        self.anchor = ti.Vector.field(3, f, shape=self.k)
        self.load = ti.Vector.field(3, f, shape=self.k)     # tangential load of slipping nodes
        self.state = ti.field(ti.i32, shape=self.k)          # 0 free, 1 stick, 2 slip
        self.mu_f, self.kt = ti.field(f, shape=()), ti.field(f, shape=())
        self.red = ti.field(ti.f64, shape=())              # target of atomic maxima
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
    def tangential(self, v):
        return ti.Vector([v[0], v[1], 0.0 * v[2]])

    @ti.kernel
    def friction_force(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            i = self.cidx[k]
            if self.state[k] == 1:
                out[i] += -self.kt[None] * self.carea[k] * self.tangential(x[i] - self.anchor[k])
            elif self.state[k] == 2:
                out[i] += self.load[k]

    @ti.kernel
    def friction_energy(self, x: ti.template()) -> ti.f64:
        total = ti.cast(0.0, ti.f64)
        for k in range(self.k):
            i = self.cidx[k]
            u = self.tangential(x[i] - self.anchor[k])
            if self.state[k] == 1:
                total += ti.cast(0.5 * self.kt[None] * self.carea[k] * u.dot(u), ti.f64)
            elif self.state[k] == 2:
                total += ti.cast(-self.load[k].dot(u), ti.f64)
        return total

    @ti.kernel
    def friction_stiffness_product(self, p: ti.template(), out: ti.template()):
        for k in range(self.k):
            if self.state[k] == 1:
                i = self.cidx[k]
                out[i] += self.kt[None] * self.carea[k] * self.tangential(p[i])

    @ti.kernel
    def friction_diagonal(self, out: ti.template()):
        for k in range(self.k):
            if self.state[k] == 1:
                i = self.cidx[k]
                kta = self.kt[None] * self.carea[k]
                out[i] += ti.Vector([kta, kta, 0.0 * kta])

    @ti.kernel
    def attach_new_contacts(self, x: ti.template()):
        """Nodes touching the indenter for the first time stick where they are."""
        for k in range(self.k):
            i = self.cidx[k]
            phi, _ = self.indenter.sdf(x[i], 0)
            if phi < 0 and self.state[k] == 0:
                self.state[k] = 1
                self.anchor[k] = x[i]
                self.load[k] = ti.Vector.zero(self.dtype, 3)

    @ti.kernel
    def return_mapping(self, x: ti.template()) -> ti.f64:
        """Stick/slip update at the current state; returns the largest friction change."""
        # The maximum is taken with an atomic on a field: `m = ti.max(m, v)` on a kernel
        # scalar inside the parallel loop is a data race (threads overwrite each other).
        self.red[None] = 0.0
        for k in range(self.k):
            if self.state[k] != 0:
                i = self.cidx[k]
                phi, _ = self.indenter.sdf(x[i], 0)
                fn = ti.max(-self.kn[None] * self.carea[k] * phi, 0.0)
                kta = self.kt[None] * self.carea[k]
                u = self.tangential(x[i] - self.anchor[k])
                trial = -kta * u
                old = self.load[k]
                if self.state[k] == 1:
                    old = trial
                lim = self.mu_f[None] * fn
                tn = trial.norm()
                new = trial
                if self.state[k] == 2 and trial.dot(old) < 0:
                    # The node slid back past its anchor: it sticks there (a load reversal
                    # of a slipping node is a stick; without this coupled neighbours can
                    # chase each other's dead loads back and forth).
                    new = ti.Vector.zero(self.dtype, 3)
                    self.anchor[k] = x[i]
                    self.state[k] = 1
                elif tn > lim:
                    # Slip: the force sits at the cap along the stretch; the anchor follows.
                    s = lim / tn
                    new = trial * s
                    self.anchor[k] = x[i] - u * s
                    self.state[k] = 2
                else:
                    self.state[k] = 1
                self.load[k] = new
                ti.atomic_max(self.red[None], ti.cast((new - old).norm(), ti.f64))
        return self.red[None]

    @ti.kernel
    def max_cap(self, x: ti.template()) -> ti.f64:
        self.red[None] = 0.0
        for k in range(self.k):
            phi, _ = self.indenter.sdf(x[self.cidx[k]], 0)
            ti.atomic_max(self.red[None], ti.cast(-self.mu_f[None] * self.kn[None]
                                                  * self.carea[k] * phi, ti.f64))
        return self.red[None]

    # ----- operators used by the Newton solver ------------------------------------------
    def contact_force(self, x, out):
        self.normal_contact_force(x, out)
        self.friction_force(x, out)

    def contact_energy(self, x):
        return self.normal_contact_energy(x) + self.friction_energy(x)

    def contact_stiffness_product(self, x, p, out):
        self.normal_contact_stiffness_product(x, p, out)
        self.friction_stiffness_product(p, out)

    def contact_diagonal(self, x, out):
        self.normal_contact_diagonal(x, out)
        self.friction_diagonal(out)

    def solve_with_friction(self, tol: float = 1e-6, max_passes: int = 60, **kw) -> dict:
        """Solve the current load step to a stick/slip fixed point (see the module notes)."""
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
        x = self.x.to_numpy()
        nodes = self.cidx.to_numpy()
        area = self.carea.to_numpy().astype(np.float64)
        state = self.state.to_numpy()
        anchor = self.anchor.to_numpy()
        kn, kt = float(self.kn[None]), float(self.kt[None])
        phi = self.node_distances()
        fn = np.maximum(-kn * area * phi, 0.0)
        u = x[nodes] - anchor
        u[:, 2] = 0.0
        ft = np.where((state == 1)[:, None], -kt * area[:, None] * u, self.load.to_numpy())
        ft[state == 0] = 0.0
        ft = ft * (1.0 - self.fixed_np[nodes])      # symmetry planes carry no friction
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
