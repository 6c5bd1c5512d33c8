import numpy as np
import pytest

from tacsuite.theory import contact


def test_hertz_table_values():
    # R = 6 mm, E = 0.3 MPa, nu = 0.45 (reference table in the design notes).
    d = np.array([0.1e-3, 0.2e-3, 0.5e-3, 1e-3])
    F = contact.hertz_force(d, 6e-3, 0.3e6, 0.45)
    np.testing.assert_allclose(F * 1e3, [38.9, 109.9, 434.4, 1228.6], rtol=2e-3)
    np.testing.assert_allclose(contact.hertz_radius(d, 6e-3) * 1e3,
                               [0.775, 1.095, 1.732, 2.449], rtol=2e-3)
    np.testing.assert_allclose(contact.hertz_peak_pressure(d, 6e-3, 0.3e6, 0.45) * 1e-3,
                               [30.9, 43.7, 69.1, 97.8], rtol=3e-3)


def test_hertz_power_law_and_energy_consistency():
    d = np.geomspace(1e-5, 1e-3, 7)
    F = contact.hertz_force(d, 5e-3, 1e5, 0.3)
    slope = np.polyfit(np.log(d), np.log(F), 1)[0]
    assert slope == pytest.approx(1.5, abs=1e-12)
    # dF/dd = 2 E* a: the contact stiffness of a circle of radius a.
    eps = 1e-9
    k = (contact.hertz_force(5e-4 + eps, 5e-3, 1e5, 0.3)
         - contact.hertz_force(5e-4 - eps, 5e-3, 1e5, 0.3)) / (2 * eps)
    a = contact.hertz_radius(5e-4, 5e-3)
    assert k == pytest.approx(2 * contact.effective_modulus(1e5, 0.3) * a, rel=1e-6)


def test_bonded_layer_published_coefficients_at_half():
    chi = np.array([0.0, 0.16, 0.26, 0.37, 0.52])
    expected = 1 + 1.133 * chi + 1.283 * chi**2 + 0.769 * chi**3 + 0.0975 * chi**4
    R, h = 15e-3, 7.5e-3
    d = (chi * h) ** 2 / R
    np.testing.assert_allclose(contact.bonded_layer_factor(d, R, h, 0.5), expected, rtol=1e-3)
    # Thick layers recover Hertz; thinner layers are stiffer.
    assert contact.bonded_layer_factor(1e-6, 1e-3, 1.0, 0.4) == pytest.approx(1.0, abs=1e-3)
    f = contact.bonded_layer_factor(1e-4, 5e-3, np.array([10e-3, 5e-3, 2e-3]), 0.4)
    assert np.all(np.diff(f) > 0)


def test_dome_table_layer_correction():
    d = np.array([0.1e-3, 0.25e-3, 0.5e-3, 1e-3])
    F = contact.bonded_layer_force(d, 15e-3, 0.3e6, 0.5, 7.5e-3)
    np.testing.assert_allclose(F * 1e3, [80, 359, 1186, 4214], rtol=0.01)


def test_mindlin_starts_at_the_sticking_stiffness_and_saturates():
    P, a, mu, E, nu = 0.04, 1.2e-3, 0.3, 5e4, 0.3
    G = contact.shear_modulus(E, nu)
    ds = contact.mindlin_slip_distance(P, a, mu, E, nu)
    eps = 1e-6 * ds
    # Before any slip the circle sticks: dQ/ddelta = 8 G a / (2 - nu) (Mindlin 1949).
    slope = mu * P * contact.mindlin_load_ratio(eps, P, a, mu, E, nu) / eps
    assert slope == pytest.approx(8 * G * a / (2 - nu), rel=1e-5)
    q = contact.mindlin_load_ratio(np.array([0.25, 0.5, 1.0, 3.0]) * ds, P, a, mu, E, nu)
    np.testing.assert_allclose(q, [1 - 0.75**1.5, 1 - 0.5**1.5, 1.0, 1.0], rtol=1e-12)


def test_lubkin_torque_is_the_hertzian_pressure_slipping_everywhere():
    P, a, mu = 0.04, 1.2e-3, 0.3
    r = np.linspace(0.0, a, 200001)
    p = 3 * P / (2 * np.pi * a**2) * np.sqrt(1 - (r / a) ** 2)
    T = np.trapezoid(mu * p * r * 2 * np.pi * r, r)
    assert contact.lubkin_full_slip_torque(P, a, mu) == pytest.approx(T, rel=1e-6)
    assert contact.torsion_stiffness(a, 5e4, 0.3) == pytest.approx(
        16 / 3 * 5e4 / 2.6 * a**3, rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="nu"):
        contact.hertz_force(1e-4, 1e-3, 1e5, 0.7)
    with pytest.raises(ValueError, match="depth"):
        contact.hertz_force(-1e-4, 1e-3, 1e5, 0.3)
    with pytest.raises(ValueError, match="contact radius"):
        contact.mindlin_slip_distance(0.04, 0.0, 0.3, 5e4, 0.3)
