"""Analytic contact mechanics references (numpy only).

- Hertz, rigid sphere on an elastic half-space (frictionless, small depth):
  F = (4/3) E* sqrt(R) d^1.5, a = sqrt(R d), E* = E / (1 - nu^2).
- Bonded thin layer on a rigid base: Dimitriadis, Horkay, Maresca, Kachar, Chadwick,
  "Determination of elastic moduli of thin layers of soft material using the atomic force
  microscope", Biophys. J. 82:2798-2810 (2002), eq. for a layer bonded to the substrate:
  F = F_Hertz * [1 - (2 a0/pi) chi + (4 a0^2/pi^2) chi^2
                 - (8/pi^3)(a0^3 + 4 pi^2 b0/15) chi^3 - (16 a0/pi^4)(a0^3 + 3 pi^2 b0/5) chi^4]
  with chi = sqrt(R d)/h, a0 = -(1.2876 - 1.4678 nu + 1.3442 nu^2)/(1 - nu),
  b0 = (0.6387 - 1.0277 nu + 1.5164 nu^2)/(1 - nu). At nu = 0.5 the bracket is the
  published 1 + 1.133 chi + 1.283 chi^2 + 0.769 chi^3 + 0.0975 chi^4. Valid for chi up to
  about 1 and nu in [0.3, 0.5].
- Flat-ended rigid cylinder (Boussinesq): F = 2 E* a d.
- Tangential load of a pressed rigid sphere on a half-space (Cattaneo 1938, Mindlin 1949),
  Coulomb friction mu, shear modulus G, contact radius a: the contact slips from the rim
  inwards and Q / (mu P) = 1 - (1 - delta / delta*)^1.5 for a tangential displacement
  delta up to the full-slip distance delta* = 3 mu P (2 - nu) / (16 G a).
- Torsion of a pressed circle: without slip (Reissner-Sagoci) T = (16/3) G a^3 theta;
  every point slipping under the Hertzian pressure (Lubkin 1951) T = (3 pi / 16) mu P a.
"""

from __future__ import annotations

import numpy as np


def _check(**kw) -> None:
    for name, v in kw.items():
        if np.any(np.asarray(v, dtype=float) < 0) or not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite and non-negative, got {v!r}")


def effective_modulus(E: float, nu: float) -> float:
    """E* of a rigid indenter on an elastic body: E / (1 - nu^2)."""
    if not (E > 0 and -1.0 < nu < 0.5 + 1e-12):
        raise ValueError(f"need E > 0 and -1 < nu <= 0.5, got E={E}, nu={nu}")
    return E / (1.0 - nu**2)


def hertz_force(depth, R: float, E: float, nu: float):
    """Normal force (N) of a rigid sphere of radius R pressed `depth` into a half-space."""
    _check(depth=depth, R=R)
    d = np.asarray(depth, dtype=float)
    return 4.0 / 3.0 * effective_modulus(E, nu) * np.sqrt(R) * d**1.5


def hertz_radius(depth, R: float):
    """Contact radius a = sqrt(R d) (m)."""
    _check(depth=depth, R=R)
    return np.sqrt(R * np.asarray(depth, dtype=float))


def hertz_peak_pressure(depth, R: float, E: float, nu: float):
    """p0 = 3 F / (2 pi a^2)."""
    a = hertz_radius(depth, R)
    return 3.0 * hertz_force(depth, R, E, nu) / (2.0 * np.pi * a**2)


def bonded_layer_factor(depth, R: float, h: float, nu: float):
    """Dimitriadis et al. (2002) force factor of a layer of thickness h bonded to a rigid base."""
    _check(depth=depth, R=R, h=h)
    if not 0.0 <= nu <= 0.5 + 1e-12:
        raise ValueError(f"the bonded-layer formula needs 0 <= nu <= 0.5, got nu={nu}")
    chi = np.sqrt(R * np.asarray(depth, dtype=float)) / h
    a0 = -(1.2876 - 1.4678 * nu + 1.3442 * nu**2) / (1.0 - nu)
    b0 = (0.6387 - 1.0277 * nu + 1.5164 * nu**2) / (1.0 - nu)
    pi = np.pi
    c1 = -2.0 * a0 / pi
    c2 = 4.0 * a0**2 / pi**2
    c3 = -8.0 / pi**3 * (a0**3 + 4.0 * pi**2 * b0 / 15.0)
    c4 = -16.0 * a0 / pi**4 * (a0**3 + 3.0 * pi**2 * b0 / 5.0)
    return 1.0 + c1 * chi + c2 * chi**2 + c3 * chi**3 + c4 * chi**4


def bonded_layer_force(depth, R: float, E: float, nu: float, h: float):
    """Hertz force corrected for a bonded layer of thickness h (Dimitriadis et al. 2002)."""
    return hertz_force(depth, R, E, nu) * bonded_layer_factor(depth, R, h, nu)


def flat_punch_force(depth, a: float, E: float, nu: float):
    """Rigid flat-ended cylinder of radius a on a half-space: F = 2 E* a d."""
    _check(depth=depth, a=a)
    return 2.0 * effective_modulus(E, nu) * a * np.asarray(depth, dtype=float)


def shear_modulus(E: float, nu: float) -> float:
    effective_modulus(E, nu)        # checks E and nu
    return E / (2.0 * (1.0 + nu))


def mindlin_slip_distance(P: float, a: float, mu: float, E: float, nu: float) -> float:
    """delta*: the tangential displacement at which the whole contact slips (m)."""
    _check(P=P, a=a, mu=mu)
    if a <= 0:
        raise ValueError(f"the contact radius must be positive, got a={a}")
    return 3.0 * mu * P * (2.0 - nu) / (16.0 * shear_modulus(E, nu) * a)


def mindlin_load_ratio(delta, P: float, a: float, mu: float, E: float, nu: float):
    """Q / (mu P) after a monotone tangential displacement delta (1 from delta* on)."""
    _check(delta=delta)
    s = np.minimum(np.asarray(delta, dtype=float) / mindlin_slip_distance(P, a, mu, E, nu),
                   1.0)
    return 1.0 - (1.0 - s) ** 1.5


def torsion_stiffness(a: float, E: float, nu: float) -> float:
    """dT/dtheta of a circle of radius a bonded to (sticking on) a half-space (N m / rad)."""
    _check(a=a)
    return 16.0 / 3.0 * shear_modulus(E, nu) * a**3


def lubkin_full_slip_torque(P: float, a: float, mu: float) -> float:
    """Torque of a Hertzian contact slipping everywhere: (3 pi / 16) mu P a (N m)."""
    _check(P=P, a=a, mu=mu)
    return 3.0 * np.pi / 16.0 * mu * P * a
