"""Constitutive laws of MPM objects as functions of the singular values of F.

Every law here is isotropic, so both the stress and the plastic return mapping have the
form M(F) = U diag(g(s)) V^T with F = U diag(s) V^T. Each Taichi function returns g,
its Jacobian dg/ds and its derivatives with respect to the material parameters; the
reverse pass (`spectral_vjp`) then needs no derivative of U or V.

Elasticity (first Piola stress, in principal form p_i):
  fixed corotated   p_i = 2 mu (s_i - 1) + lam (J - 1) J / s_i
  Neo-Hookean       p_i = mu (s_i - 1/s_i) + lam log(J) / s_i
Both linearise to the classical Lame parameters mu = E / (2 (1 + nu)),
lam = E nu / ((1 + nu)(1 - 2 nu)).

Plasticity (return mapping on the trial singular values, in Hencky strain e = log s,
e_hat its deviatoric part):
  von Mises         |e_hat| <= c, c = sqrt(2/3) sigma_y / (2 mu): the Kirchhoff stress of
                    the Hencky law has |dev tau| = 2 mu |e_hat| and uniaxial tension
                    reaches |dev tau| = sqrt(2/3) sigma_y at yield, so sigma_y is the
                    physical uniaxial yield stress;
  Drucker-Prager    (Klar et al. 2016) tr e >= 0 -> the cone tip (s = 1, no cohesion);
                    else dgamma = |e_hat| + (3 lam + 2 mu)/(2 mu) alpha tr e and, when
                    positive, e -> e - dgamma e_hat/|e_hat|;
                    alpha = sqrt(2/3) 2 sin(phi) / (3 - sin(phi)) for the friction angle phi.

Safe gradient at repeated singular values. The derivative of M along dF is
U L(K) V^T with K = U^T dF V: diagonal terms dg/ds, and for each pair i != j the
symmetric part of (K_ij, K_ji) scaled by the divided difference (g_i - g_j)/(s_i - s_j)
and the antisymmetric part by (g_i + g_j)/(s_i + s_j). Both are smooth functions of F
even where s_i = s_j (there the SVD's own derivative, with 1/(s_i - s_j) terms, is
singular); we evaluate the divided difference directly when |s_i - s_j| exceeds a
tolerance and by its limit dg_i/ds_i - dg_i/ds_j below it, so the gradient is exact
(to O(tolerance)) and finite at repeated singular values, without clamping.
"""

import math

from tacsuite.sim.backend import import_taichi

ti = import_taichi()

ELASTIC = ("fixed_corotated", "neo_hookean")
PLASTIC = ("none", "von_mises", "drucker_prager")
VM_FACTOR = math.sqrt(2.0 / 3.0) / 2.0  # c = VM_FACTOR * sigma_y / mu


def lame(E: float, nu: float) -> tuple[float, float]:
    """Classical (mu, lam) of Young's modulus E and Poisson's ratio nu."""
    if not (E > 0 and math.isfinite(E)):
        raise ValueError(f"Young's modulus E must be positive and finite, got {E!r}")
    if not -1.0 < nu < 0.5:
        raise ValueError(f"Poisson's ratio nu must lie in (-1, 0.5), got {nu!r}")
    return E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))


def lame_jacobian(E: float, nu: float):
    """((dmu/dE, dmu/dnu), (dlam/dE, dlam/dnu))."""
    g = (1 + nu) * (1 - 2 * nu)
    return ((1 / (2 * (1 + nu)), -E / (2 * (1 + nu) ** 2)),
            (nu / g, E * (1 + 2 * nu**2) / g**2))


def dp_alpha(friction_angle_deg: float) -> float:
    s = math.sin(math.radians(friction_angle_deg))
    return math.sqrt(2.0 / 3.0) * 2.0 * s / (3.0 - s)


def dp_alpha_derivative(friction_angle_deg: float) -> float:
    """d alpha / d phi per degree."""
    phi = math.radians(friction_angle_deg)
    s, c = math.sin(phi), math.cos(phi)
    return math.sqrt(2.0 / 3.0) * 2.0 * c * 3.0 / (3.0 - s) ** 2 * math.pi / 180.0


@ti.func
def elastic_principal(s, mu, lam, model: ti.template()):
    """(p, dp/ds, dp/dmu, dp/dlam) of the principal first Piola stress."""
    J = s[0] * s[1] * s[2]
    pi = ti.Vector([s[1] * s[2], s[0] * s[2], s[0] * s[1]])
    p = s * 0.0
    Jp = s.outer_product(s) * 0.0
    d_mu = s * 0.0
    d_lam = s * 0.0
    if ti.static(model == "fixed_corotated"):
        for i in ti.static(range(3)):
            p[i] = 2.0 * mu * (s[i] - 1.0) + lam * (J - 1.0) * pi[i]
            d_mu[i] = 2.0 * (s[i] - 1.0)
            d_lam[i] = (J - 1.0) * pi[i]
            for j in ti.static(range(3)):
                if ti.static(i == j):
                    Jp[i, j] = 2.0 * mu + lam * pi[i] * pi[i]
                else:
                    k = 3 - i - j
                    Jp[i, j] = lam * (pi[j] * pi[i] + (J - 1.0) * s[k])
    else:
        lJ = ti.log(J)
        for i in ti.static(range(3)):
            p[i] = mu * (s[i] - 1.0 / s[i]) + lam * lJ / s[i]
            d_mu[i] = s[i] - 1.0 / s[i]
            d_lam[i] = lJ / s[i]
            for j in ti.static(range(3)):
                if ti.static(i == j):
                    Jp[i, j] = mu * (1.0 + 1.0 / (s[i] * s[i])) + lam * (1.0 - lJ) / (s[i] * s[i])
                else:
                    Jp[i, j] = lam / (s[i] * s[j])
    return p, Jp, d_mu, d_lam


@ti.func
def plastic_projection(s, mu, lam, ys, alpha, model: ti.template()):
    """(h, dh/ds, dh/dmu, dh/dlam, dh/dys, dh/dalpha): projected singular values."""
    h = s * 1.0
    Jh = s.outer_product(s) * 0.0
    for i in ti.static(range(3)):
        Jh[i, i] = 1.0 + 0.0 * s[0]
    d_mu, d_lam, d_ys, d_al = s * 0.0, s * 0.0, s * 0.0, s * 0.0
    if ti.static(model != "none"):
        e = ti.log(s)
        tr = e.sum()
        eh = e - tr / 3.0
        r = ti.sqrt(eh.dot(eh))
        n = eh / ti.max(r, 1e-30)
        if ti.static(model == "von_mises"):
            c = VM_FACTOR * ys / mu
            if r > c:
                ep = tr / 3.0 + c * n
                h = ti.exp(ep)
                for i in ti.static(range(3)):
                    for j in ti.static(range(3)):
                        de = 1.0 / 3.0 + (c / r) * ((1.0 if i == j else 0.0) - 1.0 / 3.0
                                                    - n[i] * n[j])
                        Jh[i, j] = h[i] * de / s[j]
                    d_ys[i] = h[i] * n[i] * VM_FACTOR / mu
                    d_mu[i] = -h[i] * n[i] * c / mu
        else:
            k = alpha * (3.0 * lam + 2.0 * mu) / (2.0 * mu)
            if tr >= 0.0:
                h = s * 0.0 + 1.0
                Jh = Jh * 0.0
            elif r + k * tr > 0.0:
                ep = tr / 3.0 - k * tr * n
                h = ti.exp(ep)
                for i in ti.static(range(3)):
                    for j in ti.static(range(3)):
                        de = 1.0 / 3.0 - k * (n[i] + tr * ((1.0 if i == j else 0.0) - 1.0 / 3.0
                                                           - n[i] * n[j]) / r)
                        Jh[i, j] = h[i] * de / s[j]
                    dk = -h[i] * tr * n[i]  # dh_i / dk
                    d_al[i] = dk * (3.0 * lam + 2.0 * mu) / (2.0 * mu)
                    d_lam[i] = dk * 3.0 * alpha / (2.0 * mu)
                    d_mu[i] = dk * (-3.0 * alpha * lam / (2.0 * mu * mu))
    return h, Jh, d_mu, d_lam, d_ys, d_al


@ti.func
def spectral_vjp(s, g, Jg, G, tol):
    """K_bar (in the singular frames) of M = U diag(g(s)) V^T given G = U^T M_bar V."""
    K = s.outer_product(s) * 0.0
    for j in ti.static(range(3)):
        acc = 0.0 * s[0]
        for i in ti.static(range(3)):
            acc += Jg[i, j] * G[i, i]
        K[j, j] = acc
    for i in ti.static(range(3)):
        for j in ti.static(range(i + 1, 3)):
            ds = s[i] - s[j]
            A = Jg[i, i] - Jg[i, j]
            if ti.abs(ds) > tol:
                A = (g[i] - g[j]) / ds
            ss = s[i] + s[j]
            ss = ti.max(ti.abs(ss), tol) * (1.0 if ss >= 0 else -1.0)
            Cc = (g[i] + g[j]) / ss
            a, b = 0.5 * (A + Cc), 0.5 * (A - Cc)
            K[i, j] = a * G[i, j] + b * G[j, i]
            K[j, i] = b * G[i, j] + a * G[j, i]
    return K
