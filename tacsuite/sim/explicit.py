"""Explicit dynamics of the gel with differentiable, checkpointed rollouts.

Symplectic Euler per substep g (state slot t inside the current segment):

    f   = f_elastic(x_t) + f_rayleigh_beta(x_t, v_t) + f_contact(x_t, v_t, anchors_t)
    v'  = v_t + dt (f / m + gravity) - dt alpha v_t,      x' = x_t + dt v'

with lumped masses m = rho * (nodal volume). Bonded (fixed) degrees of freedom follow the
sensor frame: x = X + s_{g+1}, v = (s_{g+1} - s_g)/dt, where s_g is the sensor translation
at step g (an action). The indenter's position at step g is another action
(`indenter.pos[g]`). The substep is checked against the element-wise stability bound
(`fem.critical_timestep`); a larger one is refused with a ValueError.

Differentiation: states live in fields of shape (segment + 1, n) so Taichi's reverse mode
never overwrites what it needs; a rollout of T steps keeps one segment in memory plus a
checkpoint (x, v, anchors) at each segment start, and the backward pass recomputes each
segment from its checkpoint before running the reverse kernels, carrying the state
adjoint from segment to segment (nothing is cleared between them). `backward` takes the
derivatives of a scalar loss with respect to any recorded states and per-step indenter
forces and returns the gradient with respect to material (E, nu, density, alpha, beta),
contact (kn, kd, kt, mu) parameters, the initial state and both action sequences.
"""

import math

import numpy as np

from tacsuite.sim import material
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact import penalty_friction
from tacsuite.sim.fem import GelGeometry, critical_timestep

ti = import_taichi()

PARAMS = ("mu", "lam", "rho", "alpha", "beta", "kn", "kd", "kt", "fric")


@ti.data_oriented
class ExplicitGel(GelGeometry):
    def __init__(self, mesh, E: float, nu: float, density: float, dt: float, indenter,
                 horizon: int = 100, segment: int = 50, alpha: float = 0.0, beta: float = 0.0,
                 kn: float = 0.0, kd: float = 0.0, kt: float = 0.0, mu: float = 0.0,
                 gravity=(0.0, 0.0, 0.0), dtype=None, requires_grad: bool = False,
                 fixed_nodes=None):
        super().__init__(mesh, dtype=dtype, fixed_nodes=fixed_nodes)
        if indenter.dtype != self.dtype:
            raise ValueError("the indenter must use the simulator's dtype")
        if int(horizon) < 1 or int(segment) < 1:
            raise ValueError(f"horizon and segment must be >= 1, got {horizon}, {segment}")
        if indenter.n_poses < horizon + 1:
            raise ValueError(f"indenter has {indenter.n_poses} poses; a horizon of {horizon} "
                             f"steps needs {horizon + 1}")
        self.indenter = indenter
        self.horizon, self.S = int(horizon), int(min(segment, horizon))
        self.n_seg = math.ceil(self.horizon / self.S)
        self.requires_grad = bool(requires_grad)
        # Stiffness-proportional damping doubles the elastic kernel (and its reverse), so it
        # is compiled in only when the simulator is created with beta > 0.
        self.use_beta = float(beta) > 0
        f, S, rg = self.dtype, self.S, self.requires_grad
        V = lambda shape: ti.Vector.field(3, f, shape=shape, needs_grad=rg)  # noqa: E731
        self.x, self.v, self.f = V((S + 1, self.n)), V((S + 1, self.n)), V((S + 1, self.n))
        self.anchor = V((S + 1, self.k))
        self.stuck = ti.field(f, shape=(S + 1, self.k))
        self.sensor = V(self.horizon + 1)
        self.ind_force = V(self.horizon)
        self.params = {name: ti.field(f, shape=(), needs_grad=rg) for name in PARAMS}
        for name, fld in self.params.items():     # kernels read them as self.p_<name>
            setattr(self, f"p_{name}", fld)
        # Per-element copies: the reverse pass then accumulates parameter adjoints without
        # every thread contending for one address; one reduction at the end sums them.
        self.e_mu, self.e_lam, self.e_beta = (ti.field(f, shape=self.m, needs_grad=rg)
                                              for _ in range(3))
        self.n_rho, self.n_alpha = (ti.field(f, shape=self.n, needs_grad=rg) for _ in range(2))
        self.c_kn, self.c_kd, self.c_kt, self.c_fric = (ti.field(f, shape=self.k, needs_grad=rg)
                                                        for _ in range(4))
        self.dt = ti.field(f, shape=())
        self.gravity = ti.Vector.field(3, f, shape=())
        self.gravity[None] = [float(g) for g in gravity]
        # Checkpoints at segment starts, and carried adjoints between segments.
        self.ck_x, self.ck_v = (ti.Vector.field(3, f, shape=(self.n_seg, self.n))
                                for _ in range(2))
        self.ck_a = ti.Vector.field(3, f, shape=(self.n_seg, self.k))
        self.ck_s = ti.field(f, shape=(self.n_seg, self.k))
        self.seed = ti.Vector.field(3, f, shape=self.n)
        self.set_params(E=E, nu=nu, density=density, alpha=alpha, beta=beta, kn=kn, kd=kd,
                        kt=kt, mu=mu, dt=dt)
        self.steps_done = 0
        self.reset()

    # ----- parameters -------------------------------------------------------------------
    def set_params(self, **kw) -> None:
        """Set any of E, nu, density, alpha, beta, kn, kd, kt, mu, dt (checks the CFL bound)."""
        cur = getattr(self, "values", {})
        unknown = set(kw) - {"E", "nu", "density", "alpha", "beta", "kn", "kd", "kt", "mu", "dt"}
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}")
        vals = {**cur, **{k: float(v) for k, v in kw.items()}}
        for k in ("density", "dt"):
            if not vals[k] > 0:
                raise ValueError(f"{k} must be positive, got {vals[k]!r}")
        for k in ("alpha", "beta", "kn", "kd", "kt", "mu"):
            if not vals[k] >= 0:
                raise ValueError(f"{k} must be non-negative, got {vals[k]!r}")
        if vals["beta"] > 0 and not self.use_beta:
            raise ValueError("beta > 0 needs a simulator created with beta > 0 (the "
                             "stiffness-damping term is compiled in only then)")
        mu_s, lam_s = material.snh_params(vals["E"], vals["nu"])
        stiff = np.zeros(self.n)
        stiff[self.contact_nodes] = max(vals["kn"], vals["kt"]) * self.contact_area
        crit = critical_timestep(self.mesh, vals["E"], vals["nu"], vals["density"], stiff,
                                 vals["beta"])
        if vals["dt"] > crit:
            raise ValueError(f"substep dt={vals['dt']:.3e} s exceeds the stability limit "
                             f"{crit:.3e} s (CFL of this mesh and material); use dt <= {crit:.3e}")
        self.dt_critical = crit
        self.values = vals
        p = self.params
        self.p_mu[None], self.p_lam[None] = mu_s, lam_s
        self.p_rho[None] = vals["density"]
        for k in ("alpha", "beta", "kn", "kd", "kt"):
            p[k][None] = vals[k]
        self.p_fric[None] = vals["mu"]
        self.dt[None] = vals["dt"]
        self.broadcast_params()

    @ti.kernel
    def broadcast_params(self):
        for e in range(self.m):
            self.e_mu[e] = self.p_mu[None]
            self.e_lam[e] = self.p_lam[None]
            self.e_beta[e] = self.p_beta[None]
        for i in range(self.n):
            self.n_rho[i] = self.p_rho[None]
            self.n_alpha[i] = self.p_alpha[None]
        for k in range(self.k):
            self.c_kn[k] = self.p_kn[None]
            self.c_kd[k] = self.p_kd[None]
            self.c_kt[k] = self.p_kt[None]
            self.c_fric[k] = self.p_fric[None]

    # ----- physics kernels (one substep = elastic, contact, integrate) -------------------
    @ti.kernel
    def elastic_forces(self, t: ti.i32):
        for e in range(self.m):
            mu, lam, beta = self.e_mu[e], self.e_lam[e], self.e_beta[e]
            tt = self.tets[e]
            x0, v0 = self.x[t, tt[0]], self.v[t, tt[0]]
            Ds = ti.Matrix.cols([self.x[t, tt[1]] - x0, self.x[t, tt[2]] - x0,
                                 self.x[t, tt[3]] - x0])
            dV = ti.Matrix.cols([self.v[t, tt[1]] - v0, self.v[t, tt[2]] - v0,
                                 self.v[t, tt[3]] - v0])
            B = self.Bm[e]
            F = Ds @ B
            P = material.snh_stress(F, mu, lam)
            if ti.static(self.use_beta):
                P += beta * material.snh_stress_differential(F, dV @ B, mu, lam)
            H = -self.V0[e] * P @ B.transpose()
            for k in ti.static(range(3)):
                self.f[t, tt[k + 1]] += H[:, k]
            self.f[t, tt[0]] += -(H[:, 0] + H[:, 1] + H[:, 2])

    @ti.kernel
    def elastic_forces_adjoint(self, t: ti.i32):
        """Hand-written reverse of `elastic_forces` without stiffness damping.

        With f = f_el(x) the adjoints are x_bar += (df/dx)^T f_bar = -K f_bar (K is the
        symmetric Hessian of the energy, applied by the tangent-stiffness formula) and
        mu_bar += f_bar . df/dmu, lam_bar likewise (P is linear in mu and lam).
        """
        for e in range(self.m):
            tt = self.tets[e]
            x0, b0 = self.x[t, tt[0]], self.f.grad[t, tt[0]]
            Ds = ti.Matrix.cols([self.x[t, tt[1]] - x0, self.x[t, tt[2]] - x0,
                                 self.x[t, tt[3]] - x0])
            dDs = ti.Matrix.cols([self.f.grad[t, tt[1]] - b0, self.f.grad[t, tt[2]] - b0,
                                  self.f.grad[t, tt[3]] - b0])
            B = self.Bm[e]
            F = Ds @ B
            M = dDs @ B
            dP = material.snh_stress_differential(F, M, self.e_mu[e], self.e_lam[e])
            H = -self.V0[e] * dP @ B.transpose()
            for k in ti.static(range(3)):
                self.x.grad[t, tt[k + 1]] += H[:, k]
            self.x.grad[t, tt[0]] += -(H[:, 0] + H[:, 1] + H[:, 2])
            ic = (F * F).sum()
            cof = material.cofactor(F)
            P_mu = (1.0 - 1.0 / (ic + 1.0)) * F - 0.75 * cof
            P_lam = (F.determinant() - 1.0) * cof
            self.e_mu.grad[e] += -self.V0[e] * (P_mu * M).sum()
            self.e_lam.grad[e] += -self.V0[e] * (P_lam * M).sum()

    @ti.kernel
    def contact_forces(self, t: ti.i32, g: ti.i32):
        for k in range(self.k):
            i = self.cidx[k]
            c = self.indenter.pos[g]
            vc = (self.indenter.pos[g + 1] - c) / self.dt[None]
            phi, n = self.indenter.sdf(self.x[t, i], g)
            f, a, s = penalty_friction(phi, n, self.x[t, i] - c, self.v[t, i] - vc,
                                       self.anchor[t, k], self.stuck[t, k], self.carea[k],
                                       self.c_kn[k], self.c_kd[k], self.c_kt[k],
                                       self.c_fric[k])
            self.f[t, i] += f
            self.ind_force[g] += -f
            self.anchor[t + 1, k] = a
            self.stuck[t + 1, k] = s

    @ti.kernel
    def integrate(self, t: ti.i32, g: ti.i32):
        for i in range(self.n):
            dt = self.dt[None]
            m = self.n_rho[i] * self.node_vol[i]
            vf = (self.v[t, i] + dt * (self.f[t, i] / m + self.gravity[None])
                  - dt * self.n_alpha[i] * self.v[t, i])
            xf = self.x[t, i] + dt * vf
            fx = self.fixed[i]
            vb = (self.sensor[g + 1] - self.sensor[g]) / dt
            xb = self.X[i] + self.sensor[g + 1]
            self.v[t + 1, i] = fx * vb + (1.0 - fx) * vf
            self.x[t + 1, i] = fx * xb + (1.0 - fx) * xf

    # ----- bookkeeping kernels ----------------------------------------------------------
    @ti.kernel
    def _save_checkpoint(self, s: ti.i32, t: ti.i32):
        for i in range(self.n):
            self.ck_x[s, i] = self.x[t, i]
            self.ck_v[s, i] = self.v[t, i]
        for k in range(self.k):
            self.ck_a[s, k] = self.anchor[t, k]
            self.ck_s[s, k] = self.stuck[t, k]

    @ti.kernel
    def _load_checkpoint(self, s: ti.i32):
        for i in range(self.n):
            self.x[0, i] = self.ck_x[s, i]
            self.v[0, i] = self.ck_v[s, i]
        for k in range(self.k):
            self.anchor[0, k] = self.ck_a[s, k]
            self.stuck[0, k] = self.ck_s[s, k]

    @ti.kernel
    def _clear_forces(self):
        for t, i in self.f:
            self.f[t, i] = ti.Vector.zero(self.dtype, 3)

    @ti.kernel
    def _set_slot(self, t: ti.i32, xs: ti.types.ndarray(), vs: ti.types.ndarray()):
        for i in range(self.n):
            for a in ti.static(range(3)):
                self.x[t, i][a] = xs[i, a]
                self.v[t, i][a] = vs[i, a]
        for k in range(self.k):
            self.stuck[t, k] = 0.0
            self.anchor[t, k] = self.x[t, self.cidx[k]]

    @ti.kernel
    def _get_slot(self, t: ti.i32, xs: ti.types.ndarray(), vs: ti.types.ndarray()):
        for i in range(self.n):
            for a in ti.static(range(3)):
                xs[i, a] = self.x[t, i][a]
                vs[i, a] = self.v[t, i][a]

    @ti.kernel
    def _slot_grad(self, t: ti.i32, xs: ti.types.ndarray(), vs: ti.types.ndarray(),
                   write: ti.i32):
        """write=1: x.grad[t] += xs, v.grad[t] += vs; write=0: read them into xs, vs."""
        for i in range(self.n):
            for a in ti.static(range(3)):
                if write:
                    self.x.grad[t, i][a] += xs[i, a]
                    self.v.grad[t, i][a] += vs[i, a]
                else:
                    xs[i, a] = self.x.grad[t, i][a]
                    vs[i, a] = self.v.grad[t, i][a]

    @ti.kernel
    def _anchor_grad(self, t: ti.i32, a_np: ti.types.ndarray(), write: ti.i32):
        for k in range(self.k):
            for a in ti.static(range(3)):
                if write:
                    self.anchor.grad[t, k][a] += a_np[k, a]
                else:
                    a_np[k, a] = self.anchor.grad[t, k][a]

    @ti.kernel
    def energy(self, t: ti.i32) -> ti.types.vector(2, ti.f64):
        """(kinetic, elastic) energy at slot t."""
        out = ti.Vector.zero(ti.f64, 2)
        for i in range(self.n):
            m = self.p_rho[None] * self.node_vol[i]
            out[0] += ti.cast(0.5 * m * self.v[t, i].dot(self.v[t, i]), ti.f64)
        for e in range(self.m):
            tt = self.tets[e]
            x0 = self.x[t, tt[0]]
            Ds = ti.Matrix.cols([self.x[t, tt[1]] - x0, self.x[t, tt[2]] - x0,
                                 self.x[t, tt[3]] - x0])
            F = Ds @ self.Bm[e]
            out[1] += ti.cast(self.V0[e] * material.snh_energy(
                F, self.p_mu[None], self.p_lam[None]), ti.f64)
        return out

    # ----- public API -------------------------------------------------------------------
    def reset(self, x0=None, v0=None) -> None:
        """Initial state (default: rest, at rest); clears forces and the step count."""
        x0 = self.mesh.points if x0 is None else np.asarray(x0, dtype=np.float64)
        v0 = np.zeros((self.n, 3)) if v0 is None else np.asarray(v0, dtype=np.float64)
        if x0.shape != (self.n, 3) or v0.shape != (self.n, 3):
            raise ValueError(f"x0 and v0 must have shape ({self.n}, 3)")
        self.x0, self.v0 = x0.copy(), v0.copy()
        self._set_slot(0, x0.astype(self.npf), v0.astype(self.npf))
        self.ind_force.fill(0)
        self.steps_done = 0

    def set_actions(self, sensor=None, indenter=None) -> None:
        """Per-step sensor translations and indenter positions, arrays (horizon + 1, 3)."""
        for name, arr, fld in (("sensor", sensor, self.sensor),
                               ("indenter", indenter, self.indenter.pos)):
            if arr is None:
                continue
            arr = np.asarray(arr, dtype=np.float64)
            if arr.shape != (fld.shape[0], 3) or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} actions must be finite with shape "
                                 f"({fld.shape[0]}, 3), got {arr.shape}")
            fld.from_numpy(arr.astype(self.npf))

    def _run_segment(self, seg: int, length: int, record, out) -> None:
        self._clear_forces()
        for t in range(length):
            g = seg * self.S + t
            self.elastic_forces(t)
            self.contact_forces(t, g)
            self.integrate(t, g)
            if out is not None and (g + 1) in record:
                xs, vs = np.empty((self.n, 3)), np.empty((self.n, 3))
                self._get_slot(t + 1, xs, vs)
                out["x"][g + 1], out["v"][g + 1] = xs, vs

    def rollout(self, steps: int | None = None, record=()) -> dict:
        """Run `steps` substeps (default: the horizon) from the reset state.

        record: steps whose (x, v) to return. Returns {"x": {step: (n,3)}, "v": ...,
        "indenter_force": (steps, 3) force on the indenter at each step}.
        """
        steps = self.horizon if steps is None else int(steps)
        if not 1 <= steps <= self.horizon:
            raise ValueError(f"steps must lie in [1, {self.horizon}], got {steps}")
        record = set(int(r) for r in record)
        out = {"x": {}, "v": {}}
        self._set_slot(0, self.x0.astype(self.npf), self.v0.astype(self.npf))
        if 0 in record:
            out["x"][0], out["v"][0] = self.x0.copy(), self.v0.copy()
        self.ind_force.fill(0)
        length = 0
        for seg in range(math.ceil(steps / self.S)):
            self._save_checkpoint(seg, length)    # slot `length` ends the previous segment
            self._load_checkpoint(seg)
            length = min(self.S, steps - seg * self.S)
            self._run_segment(seg, length, record, out)
        self.steps_done, self.last_length = steps, length
        out["indenter_force"] = self.ind_force.to_numpy()[:steps].astype(np.float64)
        return out

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, v) after the last rollout."""
        xs, vs = np.empty((self.n, 3)), np.empty((self.n, 3))
        self._get_slot(self.last_length, xs, vs)
        return xs, vs

    def reverse_substep(self, t: int, g: int) -> None:
        """Adjoint of substep g (slot t): the three kernels in reverse order."""
        self.integrate.grad(t, g)
        self.contact_forces.grad(t, g)
        if self.use_beta:
            self.elastic_forces.grad(t)
        else:
            self.elastic_forces_adjoint(t)

    def backward(self, dx=None, dv=None, dforce=None) -> dict:
        """Gradient of a loss L given dL/dx_g, dL/dv_g ({step: (n,3)}) and dL/dforce (T,3)."""
        if not self.requires_grad:
            raise ValueError("create the simulator with requires_grad=True to differentiate")
        T = self.steps_done
        if T == 0:
            raise ValueError("run rollout() before backward()")
        dx, dv = dict(dx or {}), dict(dv or {})
        for name, d in (("dx", dx), ("dv", dv)):
            bad = [g for g in d if not 0 <= int(g) <= T]
            if bad:
                raise ValueError(f"{name} has steps {bad} outside the rollout [0, {T}]")
        for p in self.params.values():
            p.grad.fill(0)
        per_element = (self.e_mu, self.e_lam, self.e_beta, self.n_rho, self.n_alpha,
                       self.c_kn, self.c_kd, self.c_kt, self.c_fric)
        for fld in per_element:
            fld.grad.fill(0)
        self.sensor.grad.fill(0)
        self.indenter.pos.grad.fill(0)
        self.ind_force.grad.fill(0)
        if dforce is not None:
            dforce = np.asarray(dforce, dtype=np.float64)
            if dforce.shape != (T, 3):
                raise ValueError(f"dforce must have shape ({T}, 3), got {dforce.shape}")
            full = np.zeros((self.horizon, 3))
            full[:T] = dforce
            self.ind_force.grad.from_numpy(full.astype(self.npf))
        zero = np.zeros((self.n, 3))
        carry = None
        for seg in reversed(range(math.ceil(T / self.S))):
            g0 = seg * self.S
            length = min(self.S, T - g0)
            self._load_checkpoint(seg)
            self._run_segment(seg, length, (), None)
            for fld in (self.x, self.v, self.f, self.anchor):
                fld.grad.fill(0)
            if carry is not None:
                self._slot_grad(length, carry[0], carry[1], 1)
                self._anchor_grad(length, carry[2], 1)
            for g in range(g0 + 1, g0 + length + 1):
                if g in dx or g in dv:
                    self._slot_grad(g - g0, np.asarray(dx.get(g, zero), self.npf),
                                    np.asarray(dv.get(g, zero), self.npf), 1)
            for t in reversed(range(length)):
                self.reverse_substep(t, g0 + t)
            cx, cv = np.empty((self.n, 3), self.npf), np.empty((self.n, 3), self.npf)
            ca = np.empty((self.k, 3), self.npf)
            self._slot_grad(0, cx, cv, 0)
            self._anchor_grad(0, ca, 0)
            carry = (cx, cv, ca)
        self.broadcast_params.grad()
        # Initial anchors are unused (no node starts stuck), so only x0, v0 get gradients.
        gx = carry[0].astype(np.float64) + dx.get(0, zero)
        gv = carry[1].astype(np.float64) + dv.get(0, zero)
        pg = {k: float(p.grad[None]) for k, p in self.params.items()}
        (dmu_dE, dmu_dnu), (dlam_dE, dlam_dnu) = material.snh_params_jacobian(
            self.values["E"], self.values["nu"])
        return {"E": pg["mu"] * dmu_dE + pg["lam"] * dlam_dE,
                "nu": pg["mu"] * dmu_dnu + pg["lam"] * dlam_dnu,
                "density": pg["rho"], "alpha": pg["alpha"], "beta": pg["beta"],
                "kn": pg["kn"], "kd": pg["kd"], "kt": pg["kt"], "mu": pg["fric"],
                "x0": gx, "v0": gv,
                "sensor": self.sensor.grad.to_numpy().astype(np.float64),
                "indenter": self.indenter.pos.grad.to_numpy().astype(np.float64)}
