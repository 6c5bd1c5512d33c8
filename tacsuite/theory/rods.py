"""Analytic references for slender rods and cables (numpy and scipy only).

- An inextensible cable of length L hanging between two pins at the same height, span D,
  takes the catenary z(x) = a (cosh(x / a) - cosh(D / 2a)) about the midspan, with a the
  root of 2 a sinh(D / 2a) = L; its midpoint sags a (cosh(D / 2a) - 1).
- A cantilever of length L (Euler-Bernoulli, small deflection) under its own weight
  q = rho g A per length deflects at the tip by q L^4 / (8 E I); for a round rod of
  radius r, A = pi r^2 and I = pi r^4 / 4.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq


def _positive(**kw) -> None:
    for name, v in kw.items():
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")


def catenary_parameter(span: float, length: float) -> float:
    """a (m) of the catenary of a cable of `length` hung between pins `span` apart."""
    _positive(span=span, length=length)
    if length <= span:
        raise ValueError(f"a hanging cable must be longer than its span, got length "
                         f"{length!r} <= span {span!r}")
    # 2 a sinh(D / 2a) falls from infinity (a -> 0) to D (a -> infinity).
    f = lambda a: 2.0 * a * np.sinh(span / (2.0 * a)) - length  # noqa: E731
    lo = span / 1400.0                    # sinh stays finite: D / 2a < 700
    hi = span
    while f(hi) > 0:
        hi *= 2.0
    return float(brentq(f, lo, hi, xtol=1e-15 * span, rtol=1e-14))


def catenary_profile(x, span: float, length: float):
    """Height (m, <= 0) below the pins at x (m from the midspan, |x| <= span / 2)."""
    a = catenary_parameter(span, length)
    x = np.asarray(x, dtype=float)
    if np.any(np.abs(x) > span / 2 * (1 + 1e-12)):
        raise ValueError(f"x must lie between the pins, |x| <= {span / 2!r}")
    return a * (np.cosh(x / a) - np.cosh(span / (2.0 * a)))


def catenary_sag(span: float, length: float) -> float:
    """Midpoint sag (m) below the pins."""
    return float(-catenary_profile(0.0, span, length))


def cantilever_tip_deflection(length: float, E: float, radius: float, density: float,
                              g: float = 9.81) -> float:
    """Tip deflection (m) of a round cantilever rod under its own weight."""
    _positive(length=length, E=E, radius=radius, density=density, g=g)
    A, inertia = np.pi * radius**2, np.pi * radius**4 / 4.0
    return density * g * A * length**4 / (8.0 * E * inertia)
