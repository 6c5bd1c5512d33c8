import numpy as np
import pytest

from tacsuite.theory import rods


def test_the_catenary_has_the_cable_length_and_the_parabola_limit():
    D, L = 0.4, 0.5
    x = np.linspace(-D / 2, D / 2, 200001)
    z = rods.catenary_profile(x, D, L)
    assert z[0] == pytest.approx(0.0, abs=1e-12) and z[-1] == pytest.approx(0.0, abs=1e-12)
    arc = np.sum(np.hypot(np.diff(x), np.diff(z)))
    assert arc == pytest.approx(L, rel=1e-8)
    assert rods.catenary_sag(D, L) == pytest.approx(-z.min(), rel=1e-9)
    # Small slack: the shallow parabola, sag = sqrt(3 D (L - D) / 8).
    slack = 1e-4
    assert rods.catenary_sag(1.0, 1.0 + slack) == pytest.approx(np.sqrt(3 * slack / 8),
                                                                rel=1e-3)


def test_cantilever_and_bad_input():
    d = rods.cantilever_tip_deflection(0.1, 1e8, 2e-3, 1000.0)
    # q L^4 / 8 E I with q = rho g pi r^2, I = pi r^4 / 4
    assert d == pytest.approx(1000 * 9.81 * 0.1**4 / (2 * 1e8 * 2e-3**2), rel=1e-12)
    with pytest.raises(ValueError, match="longer than its span"):
        rods.catenary_parameter(0.5, 0.4)
    with pytest.raises(ValueError, match="radius"):
        rods.cantilever_tip_deflection(0.1, 1e8, -1.0, 1000.0)
