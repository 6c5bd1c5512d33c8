"""MLS-MPM objects against analytic references (float64).

- mass: the particles' mass is constant and P2G puts exactly that mass on the grid
  (the quadratic B-spline weights sum to one);
- uniaxial load: a column on a frictionless ground under gravity carries
  sigma_zz(z) = -rho g (H - z) and nothing else, so the strain between two interior
  particle layers gives Young's modulus;
- plasticity: a block squeezed between frictionless plates (uniaxial compression)
  flows at the von Mises yield stress and, unloaded, keeps a permanent strain
  eps_total - sigma_y / E;
- batch: B environments with different materials equal B single runs.
"""

import numpy as np
import pytest

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.contact_pair import ContactPair
from tacsuite.sim.ground import Ground
from tacsuite.sim.mpm import MPMBody, sample_primitive
from tacsuite.sim.world import World

ti = import_taichi()
G = 9.81


def column(batch=1, E=2e4, elastic="fixed_corotated", nu=0.3):
    dx, H = 5e-3, 0.05
    pts = sample_primitive("box", dx / 2, size=(0.02, 0.02, H), center=(0, 0, H / 2))
    w = World(batch=batch, dt=3e-4, substeps=20, dtype=ti.f64, gravity=(0, 0, -G))
    body = w.add(MPMBody("col", pts, dx, E=E, nu=nu, density=1000.0, alpha=150.0,
                         elastic=elastic))
    ground = w.add(Ground())
    pair = w.add_pair(ContactPair(body, ground, kn=5e7, kd=0, kt=0, mu=0))
    return w, body, pair, pts, dx, H


def youngs_estimate(body, pts, dx, H, rho=1000.0):
    """E from the strain between particle layers 4 and 15 of the column (per env)."""
    layer = np.round(pts[:, 2] / (dx / 2) - 0.5).astype(int)
    a, b = 4, 15
    x = body.positions()
    out = []
    for xb in x:
        za, zb = xb[layer == a, 2].mean(), xb[layer == b, 2].mean()
        eps = 1 - (zb - za) / ((b - a) * dx / 2)
        zmid = 0.5 * (pts[layer == a, 2].mean() + pts[layer == b, 2].mean())
        out.append(rho * G * (H - zmid) / eps)
    return np.array(out)


def test_mass_is_conserved_exactly_and_p2g_transfers_all_of_it():
    w, body, pair, *_ = column()
    w.reset()
    m0 = body.total_mass().copy()
    for _ in range(3):
        w.step()
        assert np.allclose(body.grid_mass(), m0, rtol=1e-12, atol=0)
    assert body.n_points == 1280 and np.all(body.total_mass() == m0)


@pytest.mark.parametrize("elastic", ["fixed_corotated", "neo_hookean"])
def test_column_under_gravity_gives_youngs_modulus(elastic):
    w, body, pair, pts, dx, H = column(elastic=elastic)
    w.reset()
    for _ in range(30):
        w.step()
    E = youngs_estimate(body, pts, dx, H)[0]
    assert abs(E / 2e4 - 1) < 0.05, E
    weight = 1000.0 * G * body.n_points * body.vol
    assert abs(-pair.force()[0, 2] / weight - 1) < 1e-3   # ground carries the weight


def test_batch_of_materials_matches_single_runs():
    Es, nus = np.array([2e4, 1.5e4]), np.array([0.3, 0.25])
    w, body, *_ = column(batch=2)
    body.set_params(E=Es, nu=nus)
    w.reset()
    for _ in range(3):
        w.step()
    xb = body.positions()
    for i in range(2):
        w1, b1, *_ = column(batch=1, E=Es[i], nu=nus[i])
        w1.reset()
        for _ in range(3):
            w1.step()
        assert np.allclose(b1.positions()[0], xb[i], rtol=0, atol=1e-12)


# Each law pair compiles its own reverse kernels (over a minute); make test checks one.
@pytest.mark.parametrize("elastic,plastic", [
    ("fixed_corotated", "von_mises"),
    pytest.param("neo_hookean", "drucker_prager", marks=pytest.mark.slow)])
def test_mpm_gradients_match_central_differences(elastic, plastic):
    """Five control steps (segments of two) of a 64-particle block on the ground pressed
    and dragged by a kinematic sphere; loss = weighted final positions. Checks dL/d(one
    pose action), dL/dE and the plastic parameter against central differences."""
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid

    dx, T = 4e-3, 5
    pts = sample_primitive("box", dx / 2, size=(0.008, 0.008, 0.008), center=(0, 0, 0.004))
    w = World(batch=1, dt=1e-4, substeps=5, dtype=ti.f64, requires_grad=True, segment=2,
              gravity=(0, 0, -G))
    body = w.add(MPMBody("blk", pts, dx, E=2e4, nu=0.3, density=1000, alpha=5.0,
                         elastic=elastic, plastic=plastic, yield_stress=300.0,
                         friction_angle=30.0))
    ground = w.add(Ground())
    ball = w.add(KinematicRigid("ball", Sphere(5e-3, dtype=ti.f64),
                                pose=(0.001, 0, 0.0122, 0, 0, 0)))
    w.add_pair(ContactPair(body, ground, kn=2e7, kd=0, kt=2e7, mu=0.5))
    press = w.add_pair(ContactPair(body, ball, kn=2e7, kd=0, kt=2e7, mu=0.3))
    W = np.random.default_rng(0).normal(size=(1, body.n_points, 3))
    plastic_param = "yield_stress" if plastic == "von_mises" else "friction_angle"
    base = {"E": 2e4, plastic_param: 300.0 if plastic == "von_mises" else 30.0}

    def acts(dz):
        return [{"ball": np.array([0.001 + 2e-4 * i, 0, 0.0122 - 5e-4 * (i + 1)
                                   - dz * (i == 2), 0, 0, 0])} for i in range(T)]

    def loss(dz=0.0, **params):
        w.reset()
        body.set_params(**{**base, **params})
        w.rollout(acts(dz))
        return float((body.positions() * W).sum())

    loss()
    assert np.abs(np.array(press.history)[:, 0]).max() > 0      # the sphere touches
    g = w.backward({T: {"blk.x": W}})
    h = 1e-7
    checks = [("action", -g["actions"]["ball"][2, 0, 2], (loss(dz=h) - loss(dz=-h)) / (2 * h))]
    for k, rel in (("E", 1e-5), (plastic_param, 1e-5)):
        e = rel * base[k]
        fd = (loss(**{k: base[k] + e}) - loss(**{k: base[k] - e})) / (2 * e)
        checks.append((k, g["params"]["blk"][k][0], fd))
    assert all(abs(fd) > 0 for _, _, fd in checks), checks   # every path is exercised
    bad = [c for c in checks if not abs(c[1] - c[2]) <= 1e-4 * abs(c[2])]
    assert not bad, bad


def test_plastic_block_flows_at_the_yield_stress_and_keeps_its_set():
    """A 1 cm von Mises cube (E = 20 kPa, sigma_y = 500 Pa, yield strain 2.5 %) squeezed
    by a frictionless plate on a frictionless ground to ~4 % strain: the plate load is the
    yield load (an elastic block would carry 1.7 x more), and after unloading the block
    keeps the plastic part of its strain, eps_max - sigma / E."""
    from tacsuite.sim.indenters import Box
    from tacsuite.sim.kinematic import KinematicRigid

    dx, Lb, E, ys = 2.5e-3, 0.01, 2e4, 500.0
    pts = sample_primitive("box", dx / 2, size=(Lb,) * 3, center=(0, 0, Lb / 2))
    w = World(batch=1, dt=1e-4, substeps=20, dtype=ti.f64)
    body = w.add(MPMBody("blk", pts, dx, E=E, nu=0.3, density=1000, alpha=100.0,
                         plastic="von_mises", yield_stress=ys))
    ground = w.add(Ground())
    top0 = pts[:, 2].max()
    plate = w.add(KinematicRigid("plate", Box((0.03, 0.03, 0.005), dtype=ti.f64),
                                 pose=(0, 0, top0 + 0.005, 0, 0, 0)))
    w.add_pair(ContactPair(body, ground, kn=1e8, kd=0, kt=0, mu=0))
    press = w.add_pair(ContactPair(body, plate, kn=1e8, kd=0, kt=0, mu=0))
    layer = np.round(pts[:, 2] / (dx / 2) - 0.5).astype(int)

    def height():
        x = body.positions()[0]
        return x[layer == layer.max(), 2].mean() - x[layer == 0, 2].mean()

    w.reset()
    h0 = height()
    for i in range(50):
        w.step({"plate": [0, 0, top0 + 0.005 - 1e-3 * (i + 1) / 50, 0, 0, 0]})
    eps_max = 1 - height() / h0
    load = press.force()[0, 2] / (Lb * Lb)            # nominal stress on the plate
    assert 0.03 < eps_max < 0.05
    assert 0.95 < load / ys < 1.25, load / ys
    for _ in range(30):
        w.step({"plate": [0, 0, top0 + 0.01, 0, 0, 0]})
    eps_set = 1 - height() / h0
    assert eps_set > 0.01
    assert abs(eps_set - (eps_max - load / E)) < 0.006, (eps_set, eps_max - load / E)
