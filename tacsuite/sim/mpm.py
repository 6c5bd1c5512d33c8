"""MLS-MPM objects in the world: elastic, elastoplastic and granular solids.

Particles sampled on a lattice (spacing dx / ppc) inside a box or a sphere carry mass,
velocity v, affine velocity C and the elastic deformation gradient F. Each substep
(state slot t -> t1):

    internal:   F_trial = (I + dt C_t) F_t;  F_t1 = U diag(h(s)) V^T (return mapping);
                P_t = U diag(p(h)) V^T (first Piola stress of F_t1)
    contacts:   pairs add forces on particles (f_t) through the one contact law
    integrate:  P2G (quadratic B-splines, MLS affine term -dt vol 4/dx^2 P F^T + m C,
                momentum dt f_t), grid v = mv / m + dt g, mass damping alpha, G2P

The grid is bounded: each environment has its own block of (gx, gy, gz) nodes whose
origin follows the particles (the lowest occupied cell, recomputed every substep), so
the cost follows the object and not the domain. An object that outgrows its block
(a sand pile spreading) raises a ValueError naming `margin`.

Contact. Particles are the point side of contact pairs: the ground, rigid and kinematic
bodies offer signed distances, and each particle (area (dx/ppc)^2) gets the pair's
penalty-and-friction force, its opposite going to the other body. Particles, not grid
nodes, are the contact points because they carry the object's state across substeps:
the stick-slip anchor of the contact law lives per point, and the grid is rebuilt
every substep.

Reverse mode. The grid is not stored per substep: `integrate_grad` recomputes the
substep's grid from the slot state (which the world's segment recomputation restored)
and runs Taichi's reverse of G2P, the grid update and P2G on it, so device memory is
one grid, not one per substep. The constitutive step's reverse is hand-written
(`mpm_materials.spectral_vjp`): every law is a function of the singular values, and
the divided-difference form of its derivative stays exact and finite when singular
values repeat (a block at rest has s = (1, 1, 1)), where the SVD's own derivative
divides by s_i - s_j.

Parameters per environment: E, nu, density, alpha (1/s, mass damping), yield_stress
(Pa, von Mises), friction_angle (degrees, Drucker-Prager). Outputs: "x", "v".
"""

import math

import numpy as np

from tacsuite.sim import mpm_materials as mm
from tacsuite.sim.backend import import_taichi
from tacsuite.sim.fem import damped_stable_dt
from tacsuite.sim.point_body import PointBody
from tacsuite.sim.world import per_env

ti = import_taichi()


def sample_primitive(kind: str, spacing: float, size=None, radius=None, center=(0, 0, 0)):
    """Lattice points (n, 3) at `spacing` filling a box (size (3,)) or a sphere (radius)."""
    c = np.asarray(center, dtype=np.float64)
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise ValueError(f"center must be a finite 3-vector, got {center!r}")
    if kind == "box":
        s = np.asarray(size, dtype=np.float64)
        if s.shape != (3,) or not np.all(s > 0):
            raise ValueError(f"box size must be three positive lengths, got {size!r}")
        n = np.maximum(np.round(s / spacing).astype(int), 1)
        axes = [(np.arange(k) + 0.5) * spacing - k * spacing / 2 for k in n]
        pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    elif kind == "sphere":
        if radius is None or not float(radius) > 0:
            raise ValueError(f"sphere radius must be positive, got {radius!r}")
        k = int(math.ceil(radius / spacing))
        ax = (np.arange(-k, k) + 0.5) * spacing
        pts = np.stack(np.meshgrid(ax, ax, ax, indexing="ij"), -1).reshape(-1, 3)
        pts = pts[np.linalg.norm(pts, axis=1) <= radius]
    else:
        raise ValueError(f"primitive kind must be 'box' or 'sphere', got {kind!r}")
    return pts + c


@ti.data_oriented
class MPMBody(PointBody):
    """An MLS-MPM object in every environment of a world.

    Args:
        name: unique name in the world.
        points: (n, 3) initial particle positions (e.g. `sample_primitive`), spacing dx/ppc.
        dx: grid spacing (m).
        ppc: particles per cell along an axis (the lattice spacing is dx / ppc).
        elastic: "fixed_corotated" or "neo_hookean".
        plastic: "none", "von_mises" or "drucker_prager".
        E, nu, density, alpha, yield_stress, friction_angle: scalars or (B,) arrays.
        margin: grid cells added on every side of the initial bounding box (room to deform).
        velocity: initial (3,) velocity.
    """

    kind = "mpm"
    has_internal = True
    param_names = ("E", "nu", "density", "alpha", "yield_stress", "friction_angle")

    def __init__(self, name: str, points, dx: float, E, nu, density, ppc: int = 2,
                 elastic: str = "fixed_corotated", plastic: str = "none", alpha=0.0,
                 yield_stress=1e30, friction_angle=30.0, margin: int = 4,
                 velocity=(0.0, 0.0, 0.0)):
        super().__init__(name)
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) == 0 or not np.all(np.isfinite(pts)):
            raise ValueError(f"points must be a finite non-empty (n, 3) array, got {pts.shape}")
        if not float(dx) > 0:
            raise ValueError(f"dx must be positive, got {dx!r}")
        if int(ppc) < 1 or int(margin) < 1:
            raise ValueError(f"ppc and margin must be >= 1, got {ppc!r}, {margin!r}")
        if elastic not in mm.ELASTIC:
            raise ValueError(f"elastic must be one of {mm.ELASTIC}, got {elastic!r}")
        if plastic not in mm.PLASTIC:
            raise ValueError(f"plastic must be one of {mm.PLASTIC}, got {plastic!r}")
        v0 = np.asarray(velocity, dtype=np.float64)
        if v0.shape != (3,) or not np.all(np.isfinite(v0)):
            raise ValueError(f"velocity must be a finite 3-vector, got {velocity!r}")
        self.points0, self.dx, self.ppc = pts, float(dx), int(ppc)
        self.elastic, self.plastic, self.margin = elastic, plastic, int(margin)
        self.spacing = self.dx / self.ppc
        self.n_points = len(pts)
        self._v0 = v0
        ext = pts.max(axis=0) - pts.min(axis=0)
        self.grid_shape = tuple(int(math.ceil(e / self.dx)) + 3 + 2 * self.margin for e in ext)
        self._init_values = dict(E=E, nu=nu, density=density, alpha=alpha,
                                 yield_stress=yield_stress, friction_angle=friction_angle)

    # ----- allocation ----------------------------------------------------------------------
    def allocate(self, world) -> None:
        B, f, rg = world.batch, world.dtype, world.requires_grad
        self.B, self.dtype, self.npf = B, f, world.npf
        N, S = self.n_points, world.n_slots
        V = lambda: ti.Vector.field(3, f, shape=(B, S, N), needs_grad=rg)  # noqa: E731
        M = lambda: ti.Matrix.field(3, 3, f, shape=(B, S, N), needs_grad=rg)  # noqa: E731
        self.x, self.v, self.f = V(), V(), V()
        self.C, self.F, self.P = M(), M(), M()
        gs = (B,) + self.grid_shape
        self.grid_m = ti.field(f, shape=gs, needs_grad=rg)
        self.grid_mv = ti.Vector.field(3, f, shape=gs, needs_grad=rg)
        self.grid_v = ti.Vector.field(3, f, shape=gs, needs_grad=rg)
        self.origin = ti.Vector.field(3, ti.i32, shape=B)
        self.overflow = ti.field(ti.i32, shape=())
        P = lambda: ti.field(f, shape=B, needs_grad=rg)  # noqa: E731
        self.p_mu, self.p_lam, self.p_rho, self.p_alpha, self.p_ys, self.p_fa = (
            P() for _ in range(6))
        self.vol = self.spacing ** 3
        # Python floats in kernels are compiled as default-precision (f32) constants;
        # lengths and volumes live in fields of the world's dtype instead.
        self.c_len = ti.field(f, shape=3)  # dx, particle volume, particle area
        self.c_len.from_numpy(np.array([self.dx, self.vol, self.spacing ** 2], dtype=world.npf))
        self.tol = 1e-6 if f == ti.f64 else 1e-3
        self.values = {}
        self.set_params(**self._init_values, _initial=True)

    # ----- parameters ----------------------------------------------------------------------
    def set_params(self, _initial: bool = False, **kw) -> None:
        """Set any of E, nu, density, alpha, yield_stress, friction_angle (scalars or (B,))."""
        unknown = set(kw) - set(self.param_names)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} of {self.name!r}; "
                             f"choose from {list(self.param_names)}")
        vals = dict(self.values)
        for k, v in kw.items():
            if k == "nu":
                a = per_env(k, v, self.B, None)
                if np.any((a <= -1) | (a >= 0.5)):
                    raise ValueError(f"nu must lie in (-1, 0.5), got {a.tolist()}")
            elif k == "friction_angle":
                a = per_env(k, v, self.B, 0.0)
                if np.any(a >= 90):
                    raise ValueError(f"friction_angle must lie in [0, 90) degrees, got "
                                     f"{a.tolist()}")
            else:
                a = per_env(k, v, self.B, 0.0, strict=k in ("E", "density", "yield_stress"))
            vals[k] = a
        old = self.values
        self.values = vals
        if not _initial:
            try:
                self.world._params_changed()
            except ValueError:
                self.values = old
                raise
        lame = np.array([mm.lame(e, n) for e, n in zip(vals["E"], vals["nu"], strict=True)])
        alpha_dp = np.array([mm.dp_alpha(a) for a in vals["friction_angle"]])
        for fld, arr in ((self.p_mu, lame[:, 0]), (self.p_lam, lame[:, 1]),
                         (self.p_rho, vals["density"]), (self.p_alpha, vals["alpha"]),
                         (self.p_ys, vals["yield_stress"]), (self.p_fa, alpha_dp)):
            fld.from_numpy(arr.astype(self.npf))

    def params(self) -> dict:
        return {k: v.copy() for k, v in self.values.items()}

    def param_fields(self) -> dict:
        return {"mu": self.p_mu, "lam": self.p_lam, "density": self.p_rho,
                "alpha": self.p_alpha, "yield_stress": self.p_ys, "dp_alpha": self.p_fa}

    def zero_param_grads(self) -> None:
        for fld in self.param_fields().values():
            fld.grad.fill(0)

    def param_grads(self) -> dict:
        g = {k: f.grad.to_numpy().astype(np.float64) for k, f in self.param_fields().items()}
        dE, dnu, dfa = np.zeros(self.B), np.zeros(self.B), np.zeros(self.B)
        for b in range(self.B):
            (mE, mnu), (lE, lnu) = mm.lame_jacobian(self.values["E"][b], self.values["nu"][b])
            dE[b] = g["mu"][b] * mE + g["lam"][b] * lE
            dnu[b] = g["mu"][b] * mnu + g["lam"][b] * lnu
            dfa[b] = g["dp_alpha"][b] * mm.dp_alpha_derivative(self.values["friction_angle"][b])
        return {"E": dE, "nu": dnu, "density": g["density"], "alpha": g["alpha"],
                "yield_stress": g["yield_stress"], "friction_angle": dfa}

    # ----- stability -----------------------------------------------------------------------
    def particle_mass(self) -> np.ndarray:
        """(B,) mass of one particle (kg)."""
        return self.values["density"] * self.vol

    def point_areas(self) -> np.ndarray:
        return np.full(self.n_points, self.spacing ** 2)

    def point_masses(self) -> np.ndarray:
        return np.repeat(self.particle_mass()[:, None], self.n_points, axis=1)

    def stable_dt(self, loads) -> float:
        """Explicit CFL of the grid (the highest lattice mode of a wave at c_p) plus the
        stiffest contact spring and its damping on one particle."""
        v = self.values
        m = self.particle_mass()
        k = np.zeros((self.B, self.n_points))
        c = np.zeros((self.B, self.n_points))
        for side, load in loads:
            if side == "point":
                k += load.k_points
                c += load.c_points
        best = math.inf
        for b in range(self.B):
            mu, lam = mm.lame(v["E"][b], v["nu"][b])
            cp2 = (lam + 2 * mu) / v["density"][b]
            w2 = 3.0 * 4.0 * cp2 / self.dx ** 2 + float(k[b].max()) / m[b]
            gamma = v["alpha"][b] + float(c[b].max()) / m[b]
            best = min(best, damped_stable_dt(w2, gamma))
        return best

    # ----- state ---------------------------------------------------------------------------
    def state_fields(self) -> dict:
        return {"x": self.x, "v": self.v, "C": self.C, "F": self.F}

    def accumulator_fields(self) -> dict:
        return {"f": self.f}

    def zero_slot_grads(self) -> None:
        # the stress is a per-substep intermediate (neither state nor accumulator): its
        # adjoint must not carry over from the previous segment's reverse pass
        self.P.grad.fill(0)

    def set_initial(self, x=None, v=None) -> None:
        """Initial particle positions/velocities, (n, 3) or (B, n, 3)."""
        self.store_initial(self.n_points, x, v)

    def initial_state(self) -> dict:
        B, N = self.B, self.n_points
        x = getattr(self, "_init_x", None)
        v = getattr(self, "_init_v", None)
        eye = np.tile(np.eye(3), (B, N, 1, 1))
        return {"x": np.tile(self.points0, (B, 1, 1)) if x is None else x,
                "v": np.tile(self._v0, (B, N, 1)) if v is None else v,
                "C": np.zeros((B, N, 3, 3)), "F": eye}

    def deformation(self) -> np.ndarray:
        return self.world.io.read(self.F, self.world.state_slot)

    def total_mass(self) -> np.ndarray:
        """(B,) mass carried by the particles (kg)."""
        return self.particle_mass() * self.n_points

    def grid_mass(self) -> np.ndarray:
        """(B,) mass on the grid after the last substep's P2G (kg)."""
        return self.grid_m.to_numpy().reshape(self.B, -1).sum(axis=1).astype(np.float64)

    # ----- point side of contact pairs ---------------------------------------------------
    @ti.func
    def point_area(self, c):
        return self.c_len[2]

    # ----- internal: constitutive update (forward and hand-written reverse) -------------
    @ti.kernel
    def internal(self, t: ti.i32, t1: ti.i32, g: ti.i32):
        for b, p in ti.ndrange(self.B, self.n_points):
            dt = self.world.dt_field[None]
            Ft = (ti.Matrix.identity(self.dtype, 3) + dt * self.C[b, t, p]) @ self.F[b, t, p]
            U, Sg, Vm = ti.svd(Ft, self.dtype)
            s = ti.Vector([Sg[0, 0], Sg[1, 1], Sg[2, 2]])
            mu, lam = self.p_mu[b], self.p_lam[b]
            h, _j, _a, _b, _c, _d = mm.plastic_projection(s, mu, lam, self.p_ys[b], self.p_fa[b],
                                                     self.plastic)
            q, _jq, _e, _f = mm.elastic_principal(h, mu, lam, self.elastic)
            Vt = Vm.transpose()
            self.F[b, t1, p] = U @ ti.Matrix([[h[0], 0, 0], [0, h[1], 0], [0, 0, h[2]]]) @ Vt
            self.P[b, t, p] = U @ ti.Matrix([[q[0], 0, 0], [0, q[1], 0], [0, 0, q[2]]]) @ Vt

    @ti.kernel
    def internal_adjoint(self, t: ti.i32, t1: ti.i32):
        for b, p in ti.ndrange(self.B, self.n_points):
            dt = self.world.dt_field[None]
            A = ti.Matrix.identity(self.dtype, 3) + dt * self.C[b, t, p]
            F0 = self.F[b, t, p]
            Ft = A @ F0
            U, Sg, Vm = ti.svd(Ft, self.dtype)
            s = ti.Vector([Sg[0, 0], Sg[1, 1], Sg[2, 2]])
            mu, lam = self.p_mu[b], self.p_lam[b]
            h, Jh, hmu, hlam, hys, hal = mm.plastic_projection(
                s, mu, lam, self.p_ys[b], self.p_fa[b], self.plastic)
            q, Jp, pmu, plam = mm.elastic_principal(h, mu, lam, self.elastic)
            Jq = Jp @ Jh
            qmu = pmu + Jp @ hmu
            qlam = plam + Jp @ hlam
            qys = Jp @ hys
            qal = Jp @ hal
            Ut = U.transpose()
            G1 = Ut @ self.F.grad[b, t1, p] @ Vm
            G2 = Ut @ self.P.grad[b, t, p] @ Vm
            K = mm.spectral_vjp(s, h, Jh, G1, self.tol) + mm.spectral_vjp(s, q, Jq, G2, self.tol)
            Fbar = U @ K @ Vm.transpose()
            self.F.grad[b, t, p] += A.transpose() @ Fbar
            self.C.grad[b, t, p] += dt * Fbar @ F0.transpose()
            d1 = ti.Vector([G1[0, 0], G1[1, 1], G1[2, 2]])
            d2 = ti.Vector([G2[0, 0], G2[1, 1], G2[2, 2]])
            self.p_mu.grad[b] += d1.dot(hmu) + d2.dot(qmu)
            self.p_lam.grad[b] += d1.dot(hlam) + d2.dot(qlam)
            self.p_ys.grad[b] += d1.dot(hys) + d2.dot(qys)
            self.p_fa.grad[b] += d1.dot(hal) + d2.dot(qal)

    def internal_grad(self, t, t1, g) -> None:
        self.internal_adjoint(t, t1)

    # ----- integrate: P2G, grid, G2P ---------------------------------------------------
    @ti.kernel
    def _locate(self, t: ti.i32):
        """Grid origin per environment: one cell below the lowest particle cell."""
        inv = 1.0 / self.c_len[0]
        for b in range(self.B):
            self.origin[b] = ti.Vector([2 ** 30, 2 ** 30, 2 ** 30])
        for b, p in ti.ndrange(self.B, self.n_points):
            c = ti.floor(self.x[b, t, p] * inv - 0.5, ti.i32)
            for k in ti.static(range(3)):
                ti.atomic_min(self.origin[b][k], c[k] - 1)
        for b, p in ti.ndrange(self.B, self.n_points):
            c = ti.floor(self.x[b, t, p] * inv - 0.5, ti.i32) - self.origin[b]
            for k in ti.static(range(3)):
                if c[k] + 2 >= self.grid_shape[k]:
                    self.overflow[None] = 1

    @ti.kernel
    def _clear_grid(self):
        for I in ti.grouped(self.grid_m):
            self.grid_m[I] = 0.0
            self.grid_mv[I] = ti.Vector.zero(self.dtype, 3)

    @ti.func
    def _stencil(self, b, xp):
        inv = 1.0 / self.c_len[0]
        X = xp * inv - ti.cast(self.origin[b], self.dtype)
        base = ti.cast(ti.floor(X - 0.5), ti.i32)
        fx = X - ti.cast(base, self.dtype)
        w = ti.Matrix.rows([0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1.0) ** 2, 0.5 * (fx - 0.5) ** 2])
        return base, fx, w

    @ti.kernel
    def _p2g(self, t: ti.i32, t1: ti.i32):
        for b, p in ti.ndrange(self.B, self.n_points):
            dt = self.world.dt_field[None]
            inv = 1.0 / self.c_len[0]
            m = self.p_rho[b] * self.c_len[1]
            base, fx, w = self._stencil(b, self.x[b, t, p])
            stress = (-dt * self.c_len[1] * 4.0 * inv * inv) * self.P[b, t, p] @ \
                self.F[b, t1, p].transpose()
            affine = stress + m * self.C[b, t, p]
            mom = m * self.v[b, t, p] + dt * self.f[b, t, p]
            for i, j, k in ti.static(ti.ndrange(3, 3, 3)):
                off = ti.Vector([i, j, k])
                dpos = (ti.cast(off, self.dtype) - fx) * self.c_len[0]
                wt = w[i, 0] * w[j, 1] * w[k, 2]
                I = base + off
                self.grid_m[b, I[0], I[1], I[2]] += wt * m
                self.grid_mv[b, I[0], I[1], I[2]] += wt * (mom + affine @ dpos)

    @ti.kernel
    def _grid_update(self):
        for b, i, j, k in self.grid_m:
            dt = self.world.dt_field[None]
            m = self.grid_m[b, i, j, k]
            v = ti.Vector.zero(self.dtype, 3)
            if m > 0:
                v = self.grid_mv[b, i, j, k] / m + dt * self.world.gravity[None]
                v = v / (1.0 + dt * self.p_alpha[b])
            self.grid_v[b, i, j, k] = v

    @ti.kernel
    def _g2p(self, t: ti.i32, t1: ti.i32):
        for b, p in ti.ndrange(self.B, self.n_points):
            dt = self.world.dt_field[None]
            inv = 1.0 / self.c_len[0]
            base, fx, w = self._stencil(b, self.x[b, t, p])
            nv = ti.Vector.zero(self.dtype, 3)
            nC = ti.Matrix.zero(self.dtype, 3, 3)
            for i, j, k in ti.static(ti.ndrange(3, 3, 3)):
                off = ti.Vector([i, j, k])
                dpos = (ti.cast(off, self.dtype) - fx) * self.c_len[0]
                wt = w[i, 0] * w[j, 1] * w[k, 2]
                I = base + off
                gv = self.grid_v[b, I[0], I[1], I[2]]
                nv += wt * gv
                nC += (4.0 * inv * inv * wt) * gv.outer_product(dpos)
            self.v[b, t1, p] = nv
            self.C[b, t1, p] = nC
            self.x[b, t1, p] = self.x[b, t, p] + dt * nv
            self.f[b, t1, p] = 0.0 * nv

    def _grid_forward(self, t: int, t1: int) -> None:
        self._locate(t)
        self._clear_grid()
        self._p2g(t, t1)
        self._grid_update()

    def integrate(self, t, t1, g) -> None:
        self._grid_forward(t, t1)
        if self.overflow[None]:
            self.overflow[None] = 0
            raise ValueError(f"MPM object {self.name!r} outgrew its grid block "
                             f"{self.grid_shape} (dx={self.dx}); create it with a larger "
                             f"margin (now {self.margin} cells)")
        self._g2p(t, t1)

    @ti.func
    def _stencil_grad(self, fx):
        """d(weights)/d(fx), rows as in `_stencil`."""
        return ti.Matrix.rows([-(1.5 - fx), -2.0 * (fx - 1.0), fx - 0.5])

    @ti.kernel
    def _g2p_adjoint(self, t: ti.i32, t1: ti.i32):
        """Reverse of `_g2p` (hand-written: Taichi's reverse of the 27-node unrolled
        gather compiles for minutes)."""
        for b, p in ti.ndrange(self.B, self.n_points):
            dt = self.world.dt_field[None]
            inv = 1.0 / self.c_len[0]
            k4 = 4.0 * inv * inv
            base, fx, w = self._stencil(b, self.x[b, t, p])
            dw = self._stencil_grad(fx)
            xb1 = self.x.grad[b, t1, p]
            vbar = self.v.grad[b, t1, p] + dt * xb1
            Cbar = self.C.grad[b, t1, p]
            xbar = xb1
            for i, j, k in ti.static(ti.ndrange(3, 3, 3)):
                off = ti.Vector([i, j, k])
                dpos = (ti.cast(off, self.dtype) - fx) * self.c_len[0]
                wt = w[i, 0] * w[j, 1] * w[k, 2]
                gw = ti.Vector([dw[i, 0] * w[j, 1] * w[k, 2], w[i, 0] * dw[j, 1] * w[k, 2],
                                w[i, 0] * w[j, 1] * dw[k, 2]]) * inv
                I = base + off
                gv = self.grid_v[b, I[0], I[1], I[2]]
                self.grid_v.grad[b, I[0], I[1], I[2]] += wt * vbar + (k4 * wt) * (Cbar @ dpos)
                xbar += (vbar.dot(gv) + k4 * gv.dot(Cbar @ dpos)) * gw \
                    - (k4 * wt) * (Cbar.transpose() @ gv)
            self.x.grad[b, t, p] += xbar

    @ti.kernel
    def _p2g_adjoint(self, t: ti.i32, t1: ti.i32):
        """Reverse of `_p2g` (hand-written for the same reason as `_g2p_adjoint`)."""
        for b, p in ti.ndrange(self.B, self.n_points):
            dt = self.world.dt_field[None]
            inv = 1.0 / self.c_len[0]
            ks = -dt * self.c_len[1] * 4.0 * inv * inv
            m = self.p_rho[b] * self.c_len[1]
            base, fx, w = self._stencil(b, self.x[b, t, p])
            dw = self._stencil_grad(fx)
            P, F1, C = self.P[b, t, p], self.F[b, t1, p], self.C[b, t, p]
            affine = ks * P @ F1.transpose() + m * C
            v = self.v[b, t, p]
            mom = m * v + dt * self.f[b, t, p]
            mbar = 0.0 * m
            mombar = ti.Vector.zero(self.dtype, 3)
            Abar = ti.Matrix.zero(self.dtype, 3, 3)
            xbar = ti.Vector.zero(self.dtype, 3)
            for i, j, k in ti.static(ti.ndrange(3, 3, 3)):
                off = ti.Vector([i, j, k])
                dpos = (ti.cast(off, self.dtype) - fx) * self.c_len[0]
                wt = w[i, 0] * w[j, 1] * w[k, 2]
                gw = ti.Vector([dw[i, 0] * w[j, 1] * w[k, 2], w[i, 0] * dw[j, 1] * w[k, 2],
                                w[i, 0] * w[j, 1] * dw[k, 2]]) * inv
                I = base + off
                gm = self.grid_m.grad[b, I[0], I[1], I[2]]
                gmv = self.grid_mv.grad[b, I[0], I[1], I[2]]
                mbar += wt * gm
                mombar += wt * gmv
                Abar += wt * gmv.outer_product(dpos)
                xbar += (gm * m + gmv.dot(mom + affine @ dpos)) * gw \
                    - wt * (affine.transpose() @ gmv)
            self.x.grad[b, t, p] += xbar
            self.v.grad[b, t, p] += m * mombar
            self.f.grad[b, t, p] += dt * mombar
            self.C.grad[b, t, p] += m * Abar
            self.P.grad[b, t, p] += ks * Abar @ F1
            self.F.grad[b, t1, p] += ks * Abar.transpose() @ P
            mbar += v.dot(mombar) + (C * Abar).sum()
            self.p_rho.grad[b] += mbar * self.c_len[1]

    def integrate_grad(self, t, t1, g) -> None:
        self._grid_forward(t, t1)
        for fld in (self.grid_m, self.grid_mv, self.grid_v):
            fld.grad.fill(0)
        self._g2p_adjoint(t, t1)
        self._grid_update.grad()
        self._p2g_adjoint(t, t1)
