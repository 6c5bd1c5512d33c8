"""Quasi-static sphere press against Hertz and the bonded-layer formula (float64)."""

import numpy as np
import pytest

from tacsuite.theory.contact import bonded_layer_force, hertz_force, hertz_radius

R, DEPTH, E, NU = 5e-3, 2e-4, 1e5, 0.3
A = np.sqrt(R * DEPTH)          # 1 mm contact radius at full depth


def _press(pad, mesh_size, growth=1.5, steps=4):
    from tacsuite.sim.press import press
    return press("sphere", R, DEPTH, E=E, nu=NU, pad=pad, mesh_size=mesh_size, steps=steps,
                 growth=growth)


@pytest.fixture(scope="module")
def thick():
    # 40 a wide, 20 a thick, elements of a/4 under the sphere, graded outwards.
    return _press((40 * A, 40 * A, 20 * A), A / 4)


def test_thick_pad_force_follows_hertz(thick):
    d, F = np.array(thick.depths), np.array(thick.forces)
    ratio = F / hertz_force(d, R, E, NU)
    assert np.all(np.abs(ratio - 1) < 0.10), ratio
    # The residual excess is mostly the finite thickness: the layer formula is closer.
    layer = F / bonded_layer_force(d, R, E, NU, 20 * A)
    assert np.all(np.abs(layer - 1) < np.abs(ratio - 1))
    slope = np.polyfit(np.log(d), np.log(F), 1)[0]
    assert slope == pytest.approx(1.5, abs=0.03)


def test_thick_pad_contact_radius(thick):
    a = np.array(thick.contact_radii[1:])
    np.testing.assert_allclose(a, hertz_radius(np.array(thick.depths[1:]), R), rtol=0.05)


def test_reported_force_balances_the_support_reaction(thick):
    solver = thick.info["solver"]
    solver.clear(solver.q)
    solver.internal_force(solver.x, solver.q, solver.mu, solver.lam)
    f = solver.q.to_numpy()
    bottom = solver.mesh.bottom_nodes
    reaction_on_support = f[bottom, 2].sum() * 4       # quarter model
    assert reaction_on_support == pytest.approx(-thick.force, rel=1e-6)


def test_thin_bonded_layer_matches_layer_formula():
    h = 2 * A
    res = _press((20 * A, 20 * A, h), A / 4)
    d, F = np.array(res.depths), np.array(res.forces)
    layer = F / bonded_layer_force(d, R, E, NU, h)
    assert np.all(np.abs(layer - 1) < 0.10), layer
    # ... and is far stiffer than a half-space: Hertz alone misses it by > 30 %.
    assert F[-1] > 1.3 * hertz_force(d[-1], R, E, NU)


@pytest.mark.slow
def test_fine_mesh_hertz_and_layer_agreement():
    res = _press((40 * A, 40 * A, 20 * A), A / 5, growth=1.4)
    d, F = np.array(res.depths), np.array(res.forces)
    ratio = F / hertz_force(d, R, E, NU)
    assert np.all(np.abs(ratio - 1) < 0.10), ratio
    # Where at least 4 elements span the contact radius, within 5 % of the layer formula.
    layer = F[1:] / bonded_layer_force(d[1:], R, E, NU, 20 * A)
    assert np.all(np.abs(layer - 1) < 0.05), layer
    np.testing.assert_allclose(res.contact_radii[1:], hertz_radius(d[1:], R), rtol=0.02)
