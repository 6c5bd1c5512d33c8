"""Quasi-static equilibrium of the gel against a rigid indenter, with adjoint gradients.

Solves f_int(x) + f_contact(x) = 0 for the free degrees of freedom by Newton's method:
each step solves K dx = r with a Jacobi-preconditioned conjugate gradient in Taichi
(K = -df/dx: the stable Neo-Hookean tangent plus the exact penalty-contact tangent
kn A (n n^T + phi dn/dx)), then backtracks on the total energy. Contact is a frictionless
penalty of stiffness kn in pascal per metre of penetration, applied over each surface
node's lumped area A: f = -kn A phi n for phi < 0.

Gradients of any scalar loss L(x) of the equilibrium positions use one adjoint solve
K w = dL/dx: dL/dtheta = w . partial f/partial theta (K is symmetric); the indenter's
normal force F is the case L = F(x, theta), which adds its own partial F/partial theta.
The adjoint solve is checked: a conjugate-gradient run that meets p^T K p <= 0 (the state
is not a stable equilibrium) or stops above its tolerance raises `GradientNotConverged`
instead of returning a gradient.
"""


import numpy as np

from tacsuite.sim import material
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem import GelGeometry

ti = import_taichi()


class NotConverged(RuntimeError):
    """The Newton (or stick/slip) iteration of a quasi-static solve did not converge."""


class GradientNotConverged(NotConverged):
    """The adjoint solve behind a gradient did not converge; no gradient is returned."""


@ti.data_oriented
class QuasiStaticGel(GelGeometry):
    """Gel with a bonded bottom pressed by one indenter (pose 0 of `indenter.pos`)."""

    def __init__(self, mesh, E: float, nu: float, kn: float, indenter, dtype=None,
                 symmetry_planes=(), fixed_nodes=None):
        super().__init__(mesh, dtype=dtype, symmetry_planes=symmetry_planes,
                         fixed_nodes=fixed_nodes)
        if indenter.dtype != self.dtype:
            raise ValueError("the indenter must use the simulator's dtype")
        self.indenter = indenter
        f = self.dtype
        vec = lambda: ti.Vector.field(3, f, shape=self.n)  # noqa: E731
        self.x, self.r, self.p, self.q, self.z = vec(), vec(), vec(), vec(), vec()
        self.dx, self.dinv, self.w, self.tmp, self.x_trial = vec(), vec(), vec(), vec(), vec()
        self.mu, self.lam, self.kn = (ti.field(f, shape=()) for _ in range(3))
        self.one, self.zero = ti.field(f, shape=()), ti.field(f, shape=())
        self.one[None], self.zero[None] = 1.0, 0.0
        # Weight of the indenter-curvature term phi dn/dx of the contact tangent: 1 is the
        # exact tangent (adjoints, Newton near the solution), 0 its positive part.
        self.curvature = ti.field(f, shape=())
        self.curvature[None] = 1.0
        self.sc = ti.field(ti.f64, shape=8)
        # Internal force of the undeformed gel: zero exactly, but in float32 the rounding of
        # the rest shape leaves forces of order eps E (face area) on every node, largest on
        # the big graded elements; they would be a residual floor of several per cent. The
        # solver removes them (and their work from the energy): see `residual`.
        self.f_rest = vec()
        self.set_material(E, nu)
        self.set_contact(kn)
        self.reset()
        self.cg_iterations = 0

    # ----- parameters -------------------------------------------------------------------
    def set_material(self, E: float, nu: float) -> None:
        self.E, self.nu = float(E), float(nu)
        mu, lam = material.snh_params(E, nu)
        self.mu[None], self.lam[None] = mu, lam
        self.clear(self.f_rest)
        self.internal_force(self.X, self.f_rest, self.mu, self.lam)

    def set_contact(self, kn: float) -> None:
        if not kn > 0:
            raise ValueError(f"contact stiffness kn must be positive, got {kn!r}")
        self.kn[None] = float(kn)
        self.kn_value = float(kn)

    def reset(self) -> None:
        self.x.copy_from(self.X)

    # ----- contact kernels --------------------------------------------------------------
    @ti.kernel
    def normal_contact_force(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(x[i], 0)
            if phi < 0:
                out[i] += -self.kn[None] * self.carea[k] * phi * n

    @ti.kernel
    def project_contact(self):
        """Move penetrating free contact nodes onto the indenter surface (a predictor)."""
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(self.x[i], 0)
            if phi < 0:
                self.x[i] -= phi * n * (1.0 - self.fixed[i])

    @ti.kernel
    def scale_displacement(self, s: ti.f64):
        for i in range(self.n):
            self.x[i] = self.X[i] + ti.cast(s, self.dtype) * (self.x[i] - self.X[i])

    @ti.func
    def contact_tangent(self, xi, phi, n):
        """d(phi n)/dx: n n^T plus the curvature term (dropped when `curvature` is 0)."""
        return n.outer_product(n) + self.curvature[None] * phi * self.indenter.sdf_hessian(xi, 0)

    @ti.func
    def normal_contact_stiffness_product(self, x: ti.template(), p: ti.template(),
                                         out: ti.template()):
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(x[i], 0)
            if phi < 0:
                Kc = self.contact_tangent(x[i], phi, n)
                out[i] += self.kn[None] * self.carea[k] * (Kc @ p[i])

    @ti.kernel
    def normal_contact_diagonal(self, x: ti.template(), out: ti.template()):
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(x[i], 0)
            if phi < 0:
                Kc = self.contact_tangent(x[i], phi, n)
                for a in ti.static(range(3)):
                    out[i][a] += self.kn[None] * self.carea[k] * Kc[a, a]

    @ti.kernel
    def normal_contact_energy(self, x: ti.template()) -> ti.f64:
        total = ti.cast(0.0, ti.f64)
        for k in range(self.k):
            phi, _ = self.indenter.sdf(x[self.cidx[k]], 0)
            if phi < 0:
                total += ti.cast(0.5 * self.kn[None] * self.carea[k] * phi * phi, ti.f64)
        return total

    @ti.kernel
    def indenter_force(self, x: ti.template()) -> ti.types.vector(7, ti.f64):
        """(force on the indenter (3), sum of F_z r^2 about the indenter axis, torque of the
        normal penalty forces about the indenter's reference point (3))."""
        out = ti.Vector.zero(ti.f64, 7)
        c = self.indenter.pos[0]
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(x[i], 0)
            if phi < 0:
                f = self.kn[None] * self.carea[k] * phi * n     # = -(force on the node)
                d = x[i] - c
                r2 = d[0] * d[0] + d[1] * d[1]
                t = d.cross(f)
                out += ti.Vector([f[0], f[1], f[2], f[2] * r2, t[0], t[1], t[2]], ti.f64)
        return out

    def mirrored(self, v, pseudo: bool = False) -> list:
        """The whole model's sum of a quarter's (or half's) vector v: a mirror plane
        x_a = 0 doubles the components a vector keeps under it and cancels the others (a
        torque, `pseudo`, keeps only its component along a)."""
        out = np.asarray(v, dtype=np.float64).copy()
        for a in self.symmetry_planes:
            keep = np.arange(3) == a if pseudo else np.arange(3) != a
            out = np.where(keep, 2.0 * out, 0.0)
        return out.tolist()

    @ti.kernel
    def normal_force_gradient(self, x: ti.template(), out: ti.template()):
        """out = dF_z/dx with F_z = sum kn A phi n_z, the indenter's normal force."""
        for i in range(self.n):
            out[i] = ti.Vector.zero(self.dtype, 3)
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(x[i], 0)
            if phi < 0:
                Hn = self.indenter.sdf_hessian(x[i], 0)
                out[i] = self.kn[None] * self.carea[k] * (n[2] * n + phi * Hn[:, 2])

    @ti.kernel
    def normal_adjoint_partials(self, x: ti.template(),
                                w: ti.template()) -> ti.types.vector(4, ti.f64):
        """(w . df/dkn, w . df/d(indenter position)) of the normal penalty forces f."""
        out = ti.Vector.zero(ti.f64, 4)
        for k in range(self.k):
            i = self.cidx[k]
            phi, n = self.indenter.sdf(x[i], 0)
            if phi < 0:
                wi = w[i] * (1.0 - self.fixed[i])
                ka = self.kn[None] * self.carea[k]
                # f = -kn A phi n depends on x - position, so df/dposition = K_c.
                Kc = ka * (n.outer_product(n) + phi * self.indenter.sdf_hessian(x[i], 0))
                g = Kc @ wi
                out += ti.cast(ti.Vector([-self.carea[k] * phi * n.dot(wi), g[0], g[1], g[2]]),
                               ti.f64)
        return out

    # Contact operators of the Newton solver; subclasses add further contact laws here.
    def contact_force(self, x, out) -> None:
        self.normal_contact_force(x, out)

    def contact_energy(self, x) -> float:
        return self.normal_contact_energy(x)

    @ti.func
    def contact_stiffness_product(self, x: ti.template(), p: ti.template(), out: ti.template()):
        self.normal_contact_stiffness_product(x, p, out)

    def contact_diagonal(self, x, out) -> None:
        self.normal_contact_diagonal(x, out)

    def contact_partials(self) -> dict:
        """w . (partial contact force / partial theta) for the contact parameters theta."""
        v = self.normal_adjoint_partials(self.x, self.w)
        return {"kn": float(v[0]), "position": np.array([v[1], v[2], v[3]], dtype=np.float64)}

    def force_x_gradient(self, out) -> None:
        """out = dF/dx of the indenter's normal force (quarter model) at the current x."""
        self.normal_force_gradient(self.x, out)

    def force_partials(self) -> dict:
        """Partial derivatives of the indenter's normal force F at fixed x (quarter model)."""
        self.normal_force_gradient(self.x, self.q)
        dFdx = self.q.to_numpy().astype(np.float64)
        self.clear(self.q)
        F = float(self.indenter_force(self.x)[2])
        # F depends on x - position only, hence dF/dposition = -sum_i dF/dx_i.
        return {"kn": F / self.kn_value, "position": -dFdx.sum(axis=0)}

    # ----- linear algebra kernels -------------------------------------------------------
    @ti.kernel
    def clear(self, a: ti.template()):
        for i in range(self.n):
            a[i] = ti.Vector.zero(self.dtype, 3)

    @ti.kernel
    def mask(self, a: ti.template()):
        for i in range(self.n):
            a[i] = a[i] * (1.0 - self.fixed[i])

    @ti.kernel
    def dot(self, a: ti.template(), b: ti.template()) -> ti.f64:
        s = ti.cast(0.0, ti.f64)
        for i in range(self.n):
            s += ti.cast(a[i].dot(b[i]), ti.f64)
        return s

    @ti.kernel
    def axpy_into(self, out: ti.template(), a: ti.template(), s: ti.f64, b: ti.template()):
        for i in range(self.n):
            out[i] = a[i] + ti.cast(s, self.dtype) * b[i]

    @ti.kernel
    def invert_diagonal(self):
        for i in range(self.n):
            for a in ti.static(range(3)):
                d = ti.abs(self.dinv[i][a])
                self.dinv[i][a] = (1.0 - self.fixed[i][a]) / d if d > 0 else 0.0

    @ti.kernel
    def cg_start(self, b: ti.template(), sol: ti.template()):
        """r = b (masked), sol = 0, z = M^-1 r, p = z, sc[0] = r.z, sc[5] = r.r."""
        self.sc[0] = 0.0
        self.sc[5] = 0.0
        self.sc[6] = 0.0
        for i in range(self.n):
            sol[i] = ti.Vector.zero(self.dtype, 3)
            r = b[i] * (1.0 - self.fixed[i])
            self.r[i] = r
            z = self.dinv[i] * r
            self.z[i] = z
            self.p[i] = z
            self.sc[0] += ti.cast(r.dot(z), ti.f64)
            self.sc[5] += ti.cast(r.dot(r), ti.f64)

    @ti.kernel
    def cg_iteration(self, x: ti.template(), sol: ti.template()):
        """One PCG iteration in one launch: q = K(x) p, then the update of sol, r, z, p; each
        loop is a parallel pass, in order. sc[6] = 1 once any non-positive curvature is
        met. A launch costs more than the arithmetic of a small gel, so the passes share
        one."""
        self.stiffness_product(x, self.p, self.q, self.mu, self.lam)
        self.contact_stiffness_product(x, self.p, self.q)
        self.sc[1] = 0.0
        for i in range(self.n):
            self.q[i] = self.q[i] * (1.0 - self.fixed[i])
            self.sc[1] += ti.cast(self.p[i].dot(self.q[i]), ti.f64)
        if self.sc[1] <= 0.0:
            self.sc[6] = 1.0
        self.sc[2] = self.sc[0] / self.sc[1] if self.sc[1] > 0.0 else 0.0
        self.sc[4] = 0.0
        self.sc[5] = 0.0
        for i in range(self.n):
            alpha = ti.cast(self.sc[2], self.dtype)
            sol[i] += alpha * self.p[i]
            self.r[i] -= alpha * self.q[i]
            self.z[i] = self.dinv[i] * self.r[i]
            self.sc[4] += ti.cast(self.r[i].dot(self.z[i]), ti.f64)
            self.sc[5] += ti.cast(self.r[i].dot(self.r[i]), ti.f64)
        self.sc[3] = self.sc[4] / self.sc[0] if self.sc[0] > 0.0 else 0.0
        self.sc[0] = self.sc[4]
        for i in range(self.n):
            self.p[i] = self.z[i] + ti.cast(self.sc[3], self.dtype) * self.p[i]
            self.q[i] = ti.Vector.zero(self.dtype, 3)

    # ----- assembled operators ----------------------------------------------------------
    def elastic_force(self, x, out) -> None:
        """out += elastic force at x, less the rounding-level force of the rest shape."""
        self.internal_force(x, out, self.mu, self.lam)
        self.axpy_into(out, out, -1.0, self.f_rest)

    def residual(self, x, out) -> None:
        """out = total force on each free dof (zero at equilibrium)."""
        self.clear(out)
        self.elastic_force(x, out)
        self.contact_force(x, out)
        self.mask(out)

    @ti.kernel
    def translated(self, x: ti.template(), out: ti.template(), t: ti.types.vector(3, ti.f64)):
        for i in range(self.n):
            out[i] = x[i] + ti.cast(t, self.dtype)

    def rounding_floor(self) -> float:
        """Norm of the rounding noise of the elastic force at the current state.

        A rigid translation leaves the exact elastic force unchanged, so the difference of
        the computed forces before and after one is rounding alone. In float32 that noise
        (of order eps E |x| / h times a face area on the large graded elements) bounds the
        residual any solver can reach.
        """
        t = 3.7e-4 * self.h_min * np.array([1.0, 0.71, 0.29])
        self.translated(self.x, self.x_trial, t)
        self.clear(self.z)
        self.internal_force(self.x_trial, self.z, self.mu, self.lam)
        self.axpy_into(self.z, self.z, -1.0, self.q)     # q holds the force at x
        self.mask(self.z)
        return float(np.sqrt(self.dot(self.z, self.z)))

    @ti.kernel
    def rest_work(self, x: ti.template()) -> ti.f64:
        s = ti.cast(0.0, ti.f64)
        for i in range(self.n):
            s += ti.cast(self.f_rest[i].dot(x[i] - self.X[i]), ti.f64)
        return s

    def energy(self, x) -> float:
        return (self.elastic_energy(x, self.mu, self.lam) + self.rest_work(x)
                + self.contact_energy(x))

    def build_preconditioner(self, x) -> None:
        self.clear(self.dinv)
        self.stiffness_diagonal(x, self.dinv, self.mu, self.lam)
        self.contact_diagonal(x, self.dinv)
        self.invert_diagonal()

    def pcg(self, x, b, sol, rtol: float, max_iter: int) -> tuple[int, float]:
        """Solve K(x) sol = b on the free dofs; returns (iterations, relative residual)."""
        self.build_preconditioner(x)
        self.cg_start(b, sol)
        self.clear(self.q)
        r0 = np.sqrt(max(self.sc[5], 1e-300))
        it, rel = 0, 0.0
        check = 10
        for it in range(1, max_iter + 1):
            self.cg_iteration(x, sol)
            if it % check == 0 or it == max_iter:
                rel = np.sqrt(max(self.sc[5], 0.0)) / r0
                if rel <= rtol or self.sc[6] > 0:
                    break
        self.cg_iterations += it
        return it, rel

    def solve(self, rtol: float | None = None, max_newton: int = 40,
              max_cg: int = 5000) -> dict:
        """Newton iterations from the current state until |r| <= rtol * |f_contact|."""
        if rtol is None:
            rtol = 1e-9 if self.dtype == ti.f64 else 1e-4
        floor = 1e-30
        history = []
        for it in range(max_newton):
            self.residual(self.x, self.r)
            self.tmp.copy_from(self.r)
            self.clear(self.dx)
            rn = np.sqrt(self.dot(self.tmp, self.tmp))
            # Load scale: the unmasked force, i.e. contact loads plus support reactions.
            tol = rtol
            if self.dtype != ti.f64:
                self.clear(self.q)
                self.internal_force(self.x, self.q, self.mu, self.lam)
                noise = self.rounding_floor()
            self.clear(self.q)
            self.elastic_force(self.x, self.q)
            self.contact_force(self.x, self.q)
            scale = max(np.sqrt(self.dot(self.q, self.q)), floor)
            if self.dtype != ti.f64:
                # Three times the rounding noise: below it a residual is not measurable.
                tol = max(rtol, 3.0 * noise / scale)
            history.append(rn / scale)
            if rn <= tol * scale:
                return {"newton": it, "residual": rn / scale, "history": history,
                        "tolerance": tol}
            # Round-off floor: within 100x of the target and no longer improving.
            if (len(history) > 3 and history[-1] < 100 * tol
                    and history[-1] > 0.5 * min(history[-4:-1])):
                return {"newton": it, "residual": rn / scale, "history": history}
            cg_tol = min(1e-2, max(0.1 * rn / scale, rtol * 0.1))
            e0 = self.energy(self.x)
            # Deep penetrations of a convex indenter make the exact contact tangent
            # indefinite (phi dn/dx < 0 tangentially, of order kn A |phi| / R, which
            # exceeds the elastic stiffness when kn is large); the step is then retried
            # with the positive part of the tangent, a descent direction.
            for exact in (True, False):
                self.curvature[None] = 1.0 if exact else 0.0
                self.pcg(self.x, self.tmp, self.dx, cg_tol, max_cg)
                self.curvature[None] = 1.0
                slope = -self.dot(self.tmp, self.dx)
                if exact and (self.sc[6] > 0 or slope >= 0):
                    continue
                ok, step = self._line_search(e0, slope, rn)
                if ok or not exact:
                    break
            self.clear(self.q)
            self.x.copy_from(self.x_trial)
        raise NotConverged(f"Newton did not converge in {max_newton} iterations "
                           f"(relative residuals {history[-3:]})")

    def _line_search(self, e0: float, slope: float, rn: float) -> tuple[bool, float]:
        """Backtrack along dx into x_trial; (sufficient decrease found, step)."""
        step = 1.0
        for _ in range(30):
            self.axpy_into(self.x_trial, self.x, step, self.dx)
            if self.energy(self.x_trial) <= e0 + 1e-4 * step * slope:
                return True, step
            # Near the solution energy differences drown in round-off: a step that
            # lowers the residual is then accepted.
            self.residual(self.x_trial, self.q)
            if np.sqrt(self.dot(self.q, self.q)) < 0.5 * rn:
                return True, step
            step *= 0.5
        return False, step

    # ----- readouts and gradients -------------------------------------------------------
    def readout(self) -> dict:
        f = self.indenter_force(self.x)
        mult = 2 ** len(self.symmetry_planes)
        Fz = float(f[2]) * mult
        radius = float(np.sqrt(max(2.5 * f[3] / f[2], 0.0))) if f[2] > 0 else 0.0
        return {"force": Fz, "force_vector": self.mirrored(f[:3]),
                "torque_vector": self.mirrored(f[4:], pseudo=True),
                "contact_radius": radius}

    def adjoint_solve(self, rhs, rtol: float | None = None, max_cg: int = 20000) -> dict:
        """w = K^-1 rhs on the free dofs at the current equilibrium, checked.

        Raises GradientNotConverged when conjugate gradients meets a direction with
        p^T K p <= 0 or does not reach `rtol` within `max_cg` iterations.
        """
        if rtol is None:
            rtol = 1e-12 if self.dtype == ti.f64 else 1e-5
        self.curvature[None] = 1.0
        it, rel = self.pcg(self.x, rhs, self.w, rtol, max_cg)
        if self.sc[6] > 0:
            raise GradientNotConverged(
                "the adjoint solve met a direction with p^T K p <= 0: the stiffness at this "
                "state is not positive definite (not a stable equilibrium), so there is no "
                "gradient; solve the state to convergence, lower the contact stiffness kn, or "
                "press in more load steps")
        if not rel <= rtol:
            raise GradientNotConverged(
                f"the adjoint solve did not converge: relative residual {rel:.3g} after {it} "
                f"conjugate-gradient iterations (tolerance {rtol:.3g}); allow more iterations "
                f"(max_cg, now {max_cg}) or use float64")
        return {"cg": it, "residual": rel}

    def _adjoint_gradients(self) -> dict:
        """w . partial f / partial theta for every parameter, from the adjoint field w."""
        out = {}
        for name, (m, lam) in {"mu": (self.one, self.zero), "lam": (self.zero, self.one)}.items():
            self.clear(self.q)
            self.internal_force(self.x, self.q, m, lam)
            self.mask(self.q)
            out[name] = self.dot(self.w, self.q)
        self.clear(self.q)
        out.update(self.contact_partials())
        return out

    def loss_gradients(self, dL_dx, rtol: float | None = None, max_cg: int = 20000) -> dict:
        """dL/dtheta of a scalar loss L(x) of the equilibrium node positions x.

        dL_dx: array (n, 3), the loss gradient at the current equilibrium (of this model's
        nodes: a quarter model's loss is a loss of its quarter). Returns the derivatives by
        mu, lam (Lame parameters of the stable Neo-Hookean law), kn and the indenter
        position (array (3,)); a frictional solver adds mu_f and kt.
        """
        g = np.asarray(dL_dx, dtype=np.float64)
        if g.shape != (self.n, 3) or not np.all(np.isfinite(g)):
            raise ValueError(f"dL_dx must be a finite array of shape ({self.n}, 3), "
                             f"got shape {g.shape}")
        self.tmp.from_numpy(g.astype(self.npf))
        self.adjoint_solve(self.tmp, rtol, max_cg)
        return self._adjoint_gradients()

    def force_gradients(self, rtol: float | None = None, max_cg: int = 20000) -> dict:
        """d(normal force)/d(mu, lam, kn, indenter position, ...) at the current equilibrium."""
        mult = 2 ** len(self.symmetry_planes)
        self.force_x_gradient(self.tmp)
        self.adjoint_solve(self.tmp, rtol, max_cg)
        out = self._adjoint_gradients()
        for name, v in self.force_partials().items():
            out[name] = out[name] + v
        return {k: (mult * np.asarray(v)).tolist() if k == "position" else mult * float(v)
                for k, v in out.items()}
