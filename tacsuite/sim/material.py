"""Stable Neo-Hookean elasticity (Smith, de Goes, Kim 2018) with Lame re-parameterisation.

Energy density, F the deformation gradient, I_C = tr(F^T F), J = det F:

    psi(F) = mu/2 (I_C - 3) + lam/2 (J - alpha)^2 - mu/2 log(I_C + 1),  alpha = 1 + 3 mu/(4 lam)

Linearised at F = I this law has shear modulus 3/4 mu and first Lame parameter
lam - 5/8 mu. To make the user's small-strain E and nu exact we set
mu = 4/3 mu_L and lam = lam_L + 5/6 mu_L, where (mu_L, lam_L) are the classical Lame
parameters of (E, nu). The first Piola stress is linear in (mu, lam):

    P = mu [(1 - 1/(I_C+1)) F - 3/4 cof F] + lam (J - 1) cof F,   cof F = dJ/dF,

which the adjoint solver uses: dP/dmu and dP/dlam are P evaluated at (1, 0) and (0, 1).
"""

from __future__ import annotations

import math

from tacsuite.sim.backend import import_taichi

ti = import_taichi()


def lame(E: float, nu: float) -> tuple[float, float]:
    """Classical Lame parameters (mu_L, lam_L) of Young's modulus E (Pa) and Poisson's nu."""
    if not (E > 0 and math.isfinite(E)):
        raise ValueError(f"Young's modulus E must be positive and finite, got {E!r}")
    if not -1.0 < nu < 0.5:
        raise ValueError(f"Poisson's ratio nu must lie in (-1, 0.5), got {nu!r}")
    return E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))


def snh_params(E: float, nu: float) -> tuple[float, float]:
    """Stable Neo-Hookean (mu, lam) whose linearisation has exactly (E, nu)."""
    mu_l, lam_l = lame(E, nu)
    mu, lam = 4.0 / 3.0 * mu_l, lam_l + 5.0 / 6.0 * mu_l
    if lam <= 0:
        raise ValueError(f"nu={nu} gives a non-positive stable Neo-Hookean lambda; use nu > -0.4")
    return mu, lam


def snh_params_jacobian(E: float, nu: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """((dmu/dE, dmu/dnu), (dlam/dE, dlam/dnu)) of `snh_params`."""
    lame(E, nu)
    dmul_dE, dmul_dnu = 1 / (2 * (1 + nu)), -E / (2 * (1 + nu) ** 2)
    g = (1 + nu) * (1 - 2 * nu)
    dlaml_dE, dlaml_dnu = nu / g, E * (1 + 2 * nu**2) / g**2
    return ((4 / 3 * dmul_dE, 4 / 3 * dmul_dnu),
            (dlaml_dE + 5 / 6 * dmul_dE, dlaml_dnu + 5 / 6 * dmul_dnu))


def p_wave_speed(E: float, nu: float, density: float) -> float:
    """Small-strain dilatational wave speed sqrt((lam_L + 2 mu_L)/rho) in m/s."""
    if not density > 0:
        raise ValueError(f"density must be positive, got {density!r}")
    mu_l, lam_l = lame(E, nu)
    return math.sqrt((lam_l + 2 * mu_l) / density)


@ti.func
def cofactor(F):
    c0 = F[:, 1].cross(F[:, 2])
    c1 = F[:, 2].cross(F[:, 0])
    c2 = F[:, 0].cross(F[:, 1])
    return ti.Matrix.cols([c0, c1, c2])


@ti.func
def snh_stress(F, mu, lam):
    """First Piola-Kirchhoff stress P(F)."""
    ic = (F * F).sum()
    J = F.determinant()
    return mu * (1.0 - 1.0 / (ic + 1.0)) * F + (lam * (J - 1.0) - 0.75 * mu) * cofactor(F)


@ti.func
def snh_stress_differential(F, dF, mu, lam):
    """dP = (dP/dF) : dF, the tangent stiffness applied to a strain increment."""
    ic = (F * F).sum()
    J = F.determinant()
    cof = cofactor(F)
    dcof = ti.Matrix.cols([dF[:, 1].cross(F[:, 2]) + F[:, 1].cross(dF[:, 2]),
                           dF[:, 2].cross(F[:, 0]) + F[:, 2].cross(dF[:, 0]),
                           dF[:, 0].cross(F[:, 1]) + F[:, 0].cross(dF[:, 1])])
    a = 1.0 - 1.0 / (ic + 1.0)
    dic = 2.0 * (F * dF).sum()
    return (mu * a * dF + mu * dic / (ic + 1.0) ** 2 * F
            + lam * (cof * dF).sum() * cof + (lam * (J - 1.0) - 0.75 * mu) * dcof)


@ti.func
def snh_energy(F, mu, lam):
    """psi(F), shifted so that psi(I) = 0."""
    ic = (F * F).sum()
    J = F.determinant()
    s = lam * (J - 1.0) - 0.75 * mu
    s0 = -0.75 * mu
    return (0.5 * mu * (ic - 3.0) + (s * s - s0 * s0) / (2.0 * lam)
            - 0.5 * mu * ti.log((ic + 1.0) / 4.0))
