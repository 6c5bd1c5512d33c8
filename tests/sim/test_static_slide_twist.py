"""Quasi-static slide and twist of a pressed sphere against Cattaneo-Mindlin and Lubkin.

The anchors of sticking nodes ride on the indenter between load steps, so moving the
pressed sphere sideways or turning it about its axis drags the contact along: a slide
builds up tangential force from the rim inwards (Cattaneo-Mindlin partial slip) up to mu P,
a twist builds up torque up to the full-slip torque (Lubkin: 3 pi / 16 mu P a for a
Hertzian pressure), and the markers under the contact follow the slide or curl with the
twist. Coarse mesh (0.5 mm nodes, about 16 in contact), float64.
"""

import numpy as np
import pytest
import torch

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box
from tacsuite.theory import contact

ti = import_taichi()
TOP, R, DEPTH, E, NU, MU = 0.003, 4e-3, 0.3e-3, 5e4, 0.3, 0.3
Z = TOP + R - DEPTH


def _rig():
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.readout import GelReadout
    from tacsuite.sim.world import World
    from tacsuite.sim.world_statics import StaticSolver
    w = World(batch=1, dt=1e-8, dtype=ti.f64)
    mesh = structured_box((0.006, 0.006, TOP), (12, 12, 2))
    w.add(FEMBody("gel", mesh, E=E, nu=NU, density=1000.0))
    w.add(KinematicRigid("ball", Sphere(R, dtype=ti.f64)))
    w.add_pair(ContactPair(w.named("gel"), w.named("ball"), kn=5e9, kt=5e9, mu=MU))
    return w, StaticSolver(w), GelReadout(mesh, markers=(15, 15), marker_extent=0.8)


@pytest.fixture(scope="module")
def rig():
    return _rig()


def _contact(static):
    """(offset from the axis (m, 2), normal force, tangential force on the gel, state) of
    the nodes touching the sphere."""
    gel = static.gel
    fr = gel.friction_readout()
    x = gel.x.to_numpy()[fr["node"]]
    c = gel.indenter.pos.to_numpy()[0]
    on = fr["normal"] > 0
    return (x - c)[on, :2], fr["normal"][on], fr["tangential"][on], fr["state"][on]


def _markers(w, readout):
    x = torch.as_tensor(w.named("gel").positions()[:1])
    return readout.markers(readout.rest(1))[0].numpy(), readout.markers(x)[0].numpy()


def test_a_slide_slips_from_the_rim_inwards_and_saturates_at_mu_p(rig):
    w, static, readout = rig
    w.reset()
    static.solve({"ball": (0, 0, Z, 0, 0, 0)})
    # The press leaves its own radial friction (the surface pulled in towards the axis
    # sticks); the slide's tangential load Q is the change from it.
    ft0 = _contact(static)[2].sum(axis=0)
    Q, slip_frac = [], []
    for dx in (2e-5, 6e-5, 4e-4):
        out = static.solve({"ball": (dx, 0, Z, 0, 0, 0)})[0]
        off, fn, ft, state = _contact(static)
        r, P, a = np.linalg.norm(off, axis=1), fn.sum(), out["contact_radius"]
        # The friction drags the gel along the slide (the ball feels the reaction).
        Q.append((ft[:, 0].sum() - ft0[0]) / (MU * P))
        slip_frac.append(np.mean(state == 2))
        if dx == 2e-5:
            # Cattaneo-Mindlin: partial slip starts at the rim of the contact.
            assert 0 < slip_frac[0] < 1
            assert r[state == 2].mean() > r[state == 1].mean()
            assert abs(ft[:, 1].sum() - ft0[1]) < 0.05 * (ft[:, 0].sum() - ft0[0])
            mindlin = contact.mindlin_load_ratio(dx, P, a, MU, E, NU)
            assert Q[0] == pytest.approx(mindlin, rel=0.25), (Q[0], mindlin)
            rest, now = _markers(w, readout)
            under = np.linalg.norm(rest[:, :2], axis=1) < a
            d = (now - rest)[under]
            assert d[:, 0].mean() > 0 and abs(d[:, 1].mean()) < 0.2 * d[:, 0].mean()
    assert Q[0] < Q[1] < Q[2] and slip_frac[0] < slip_frac[1] <= slip_frac[2] == 1.0
    # Full slip: every node drags at mu f_n along the slide.
    assert ft[:, 0].sum() / (MU * P) == pytest.approx(1.0, abs=0.03)
    assert abs(ft[:, 1].sum()) < 0.03 * ft[:, 0].sum()


def test_a_twist_builds_torque_up_to_full_slip_and_curls_the_markers(rig):
    w, static, readout = rig
    w.reset()
    static.solve({"ball": (0, 0, Z, 0, 0, 0)})
    T = []
    for th in (0.03, 0.4):
        out = static.solve({"ball": (0, 0, Z, 0, 0, th)})[0]
        off, fn, ft, state = _contact(static)
        r = np.linalg.norm(off, axis=1)
        full = MU * np.sum(fn * r)             # every node slipping, against the turn
        T.append(-out["torque_vector"][2] / full)
        if th == 0.03:
            assert 0 < np.mean(state == 2) < 1
            assert r[state == 2].mean() > r[state == 1].mean()
            rest, now = _markers(w, readout)
            rr = np.linalg.norm(rest[:, :2], axis=1)
            under = (rr > 0) & (rr < out["contact_radius"])
            d = (now - rest)[under, :2]
            e_r = rest[under, :2] / rr[under, None]
            e_t = np.stack([-e_r[:, 1], e_r[:, 0]], axis=1)
            tangential = np.sum(d * e_t, axis=1)
            assert np.all(tangential > 0)      # the markers curl with the twist
            assert abs(np.mean(np.sum(d * e_r, axis=1))) < 0.2 * tangential.mean()
    assert 0 < T[0] < T[1] and T[1] == pytest.approx(1.0, abs=0.02)
    P, a = out["force"], out["contact_radius"]
    # The pressure is Hertzian enough for Lubkin's full-slip torque.
    assert full == pytest.approx(contact.lubkin_full_slip_torque(P, a, MU), rel=0.05)
