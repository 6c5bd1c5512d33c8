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
