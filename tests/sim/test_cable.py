"""The cable (discrete elastic rod) against analytic references, float64.

- pinned at both ends (span D, length L) it hangs as the catenary y = a cosh(x / a) with
  2 a sinh(D / 2a) = L: midpoint sag within 3 % (measured: 0.1 %);
- clamped (nodes 0 and 1 fixed: the clamp sits between them, half a segment from the
  wall node) it bends under its own weight as the Euler-Bernoulli cantilever,
  tip deflection rho g A L^4 / (8 E I) within 5 % (measured: 0.05 %);
- its stretch stays below 1 % at E = 10 MPa;
- dragged by a grasped end along the ground it slides with friction mu times its weight;
- reverse mode matches central differences w.r.t. the grasp action and E;
- set_initial lays it out for every reset (fixed nodes held where it puts them).
"""

import numpy as np
import pytest

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.cable import Cable
from tacsuite.sim.contact_pair import ContactPair
from tacsuite.sim.ground import Ground
from tacsuite.sim.world import World
from tacsuite.theory import rods

ti = import_taichi()


def test_pinned_cable_sags_to_the_catenary_with_small_stretch():
    L, D, n = 0.5, 0.4, 41
    s = np.linspace(0, L, n)
    h0 = np.sqrt((L / 2) ** 2 - (D / 2) ** 2)
    # a V through both pins with the cable's length (both halves straight, equal spacing)
    z = -np.minimum(s, L - s) * 2 * h0 / L
    pts = np.stack([s * D / L, 0 * s, z], 1)
    w = World(batch=1, dt=6e-5, substeps=200, dtype=ti.f64, gravity=(0, 0, -9.81))
    cab = w.add(Cable("c", pts, radius=5e-4, E=1e7, density=1000, alpha=18.0,
                      fixed=[0, n - 1]))
    w.reset()
    for _ in range(80):
        w.step()
    sag = rods.catenary_sag(D, L)
    x = cab.positions()[0]
    assert abs(-x[n // 2, 2] / sag - 1) < 0.03
    assert 0 < cab.strain().max() < 0.01


def test_cantilever_tip_deflection_matches_euler_bernoulli():
    L, n, E, r, rho = 0.1, 41, 1e8, 2e-3, 1000.0
    pts = np.stack([np.linspace(0, L, n), np.zeros(n), np.zeros(n)], 1)
    w = World(batch=1, dt=1e-6, substeps=200, dtype=ti.f64, gravity=(0, 0, -9.81))
    cab = w.add(Cable("c", pts, radius=r, E=E, density=rho, alpha=220.0, fixed=[0, 1]))
    w.set_dt(0.85 * w.stability_limit())
    w.reset()
    for _ in range(150):
        w.step()
    Lc = L - 0.5 * L / (n - 1)
    ref = rods.cantilever_tip_deflection(Lc, E, r, rho)
    tip = -cab.positions()[0, -1, 2]
    assert abs(tip / ref - 1) < 0.05, (tip, ref)


def drag_world(requires_grad=False):
    n = 11
    pts = np.stack([np.linspace(0, 0.1, n), np.zeros(n), np.full(n, 2e-3)], 1)
    w = World(batch=1, dt=5e-5, substeps=20, dtype=ti.f64, requires_grad=requires_grad,
              segment=2, gravity=(0, 0, -9.81))
    cab = w.add(Cable("rope", pts, radius=2e-3, E=1e7, density=1200, alpha=2.0, grasped=[0]))
    ground = w.add(Ground())
    pair = w.add_pair(ContactPair(cab, ground, kn=1e7, kd=1e4, kt=1e7, mu=0.5))
    w.check_stability()
    return w, cab, pair


def drag_actions(T, dx=0.0, step=2):
    """The grasped end pulled along -x at 0.5 m/s (ramped over the first 20 steps)."""
    s = np.cumsum(np.minimum(np.arange(1, T + 1) / 20.0, 1.0)) * 5e-4
    return [{"rope": np.array([-s[i] + dx * (i == step), 0.0, 0.0, 0, 0, 0])}
            for i in range(T)]


def test_dragged_cable_slides_with_coulomb_friction():
    w, cab, pair = drag_world()
    acts = drag_actions(50)
    w.rollout(acts)
    x = cab.positions()[0]
    assert abs(x[0, 0] - acts[-1]["rope"][0]) < 1e-9        # the grasped end follows
    assert abs(x[-1, 0] - (0.1 + acts[-1]["rope"][0])) < 2e-3  # the rest follows in tension
    # It rests on its surface: the centreline stays a radius (2 mm) above the ground, less
    # the penalty's give, weight / (kn * area) = rho pi r g / (2 kn) = 3.7 um.
    sink = 2e-3 - x[1:, 2]
    assert np.all(sink > 0) and sink.max() < 1e-5, sink
    # the ground carries every node but the grasped one (half a segment's mass)
    weight = 1200 * np.pi * 2e-3 ** 2 * (0.1 - 0.005) * 9.81
    f = pair.force()[0]                                      # of the cable on the ground
    assert abs(-f[2] / weight - 1) < 0.05
    assert abs(-f[0] / (0.5 * weight) - 1) < 0.05            # sliding: mu times the load
    assert 0 < cab.strain().max() < 0.01


def test_cable_gradients_match_central_differences():
    T = 5
    w, cab, pair = drag_world(requires_grad=True)
    W = np.random.default_rng(1).normal(size=(1, cab.n, 3))

    def loss(dx=0.0, E=1e7):
        w.reset()
        cab.set_params(E=E)
        w.rollout(drag_actions(T, dx))
        return float((cab.positions() * W).sum())

    loss()
    g = w.backward({T: {"rope.x": W}})
    h = 1e-7
    fd_a = (loss(dx=h) - loss(dx=-h)) / (2 * h)
    fd_e = (loss(E=1e7 + 10.0) - loss(E=1e7 - 10.0)) / 20.0
    assert abs(g["actions"]["rope"][2, 0, 0] - fd_a) <= 1e-4 * abs(fd_a) + 1e-9
    assert abs(g["params"]["rope"]["E"][0] - fd_e) <= 1e-4 * abs(fd_e) + 1e-12


def test_set_initial_lays_the_cable_out_for_every_reset():
    n = 5
    w = World(batch=2, dt=5e-5, substeps=4, dtype=ti.f64, gravity=(0, 0, 0))
    straight = np.stack([np.linspace(0, 0.04, n), np.zeros(n), np.zeros(n)], 1)
    cab = w.add(Cable("c", straight, radius=1e-3, E=1e5, density=1000, fixed=[0]))
    th = np.linspace(0, 0.8, n)                  # an arc of the same spacing, turned 0.8 rad
    arc = 0.05 * np.stack([np.sin(th), 1 - np.cos(th), 0 * th], 1)
    x0 = np.stack([straight, arc + [0.01, 0, 0]])
    cab.set_initial(x=x0)
    w.reset()
    np.testing.assert_allclose(cab.positions(), x0, atol=1e-15)
    for _ in range(5):
        w.step()
    np.testing.assert_allclose(cab.positions()[:, 0], x0[:, 0], atol=1e-15)  # fixed node
    assert np.abs(cab.positions()[0] - straight).max() < 1e-12   # a straight rod rests
    assert np.abs(cab.positions()[1] - x0[1]).max() > 1e-7       # a bent one springs back
    w.reset(env_ids=[1])
    np.testing.assert_allclose(cab.positions()[1], x0[1], atol=1e-15)
    with pytest.raises(ValueError, match=r"initial x of 'c' must be finite with shape "
                                         r"\(2, 5, 3\) or \(5, 3\), got \(3, 5, 3\)"):
        cab.set_initial(x=np.zeros((3, n, 3)))
