"""Stick-slip friction in the world: elastic rise to mu * F_n, sliding at mu * F_n, no creep."""

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box

ti = import_taichi()
E, NU, RHO, MU = 5e4, 0.3, 1000.0, 0.5
H = 0.004
K = 10                               # substeps per control step
PRESS, HOLD, DRAG = 150, 50, 300     # control steps
DEPTH, SLIDE = 0.1e-3, 1.0e-3


@pytest.fixture(scope="module")
def scene():
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Box
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    mesh = structured_box((0.012, 0.012, H), (12, 12, 4))
    w = World(batch=1, dt=1e-7, substeps=K, dtype=ti.f64)
    gel = w.add(FEMBody("gel", mesh, E=E, nu=NU, density=RHO, alpha=3000.0))
    # A plate wider than the pad: the drag force is friction only (no ploughing edge).
    plate = w.add(KinematicRigid("plate", Box((20e-3, 20e-3, 2e-3), dtype=ti.f64),
                                 pose=(0, 0, H + 2e-3, 0, 0, 0)))
    pair = w.add_pair(ContactPair(gel, plate, kn=100 * E / 1e-3, kd=0.0, kt=100 * E / 1e-3,
                                  mu=MU))
    w.reset()
    # 80% of the stability limit: penalty contact chatters more as dt nears the limit.
    w.set_dt(0.8 / 0.9 * w.dt_limit)
    return w, gel, pair


def _smooth_drag(distance, start, duration, n):
    """Plate x at each control step: the velocity ramps up linearly over the first tenth of
    `duration`, stays constant, then stops (positions of that continuous motion)."""
    u = (np.arange(n + 1) - start) / duration
    X = np.where(u < 0.1, np.clip(u, 0, None) ** 2 / 0.2, 0.05 + np.clip(u, 0.1, 1.0) - 0.1)
    return distance * X / 0.95


def _run(w, pair, x, n, record=()):
    w.reset()
    nodes = {}
    for i in range(1, n + 1):
        z = H + 2e-3 - DEPTH * min(i / PRESS, 1.0)
        w.step({"plate": (x[i], 0, z, 0, 0, 0)})
        if i in record:
            nodes[i] = w.named("gel").positions()[0]
    return np.array(pair.history)[:, 0], nodes


def test_tangential_force_sticks_then_slides_at_coulomb_limit(scene):
    w, gel, pair = scene
    n = PRESS + HOLD + DRAG
    f, _ = _run(w, pair, _smooth_drag(SLIDE, PRESS + HOLD, DRAG, n), n)
    fn, ft = f[:, 2], f[:, 0]
    t0 = PRESS + HOLD
    assert fn[t0 - 1] > 0
    assert abs(ft[t0 - 1]) < 0.02 * fn[t0 - 1]     # a symmetric press: almost no shear
    ratio = -ft / np.maximum(fn, 1e-30)            # friction opposes the drag (+x)
    # Stick: the force first grows in proportion to the drag distance.
    early = ratio[t0 + 5: t0 + 45: 5]
    assert np.all(np.diff(early) > 0) and early[-1] < 0.9 * MU
    assert ratio[t0 + 10] < 0.2 * MU
    # Slide: it then saturates at mu * F_n and stays there.
    late = ratio[t0 + DRAG // 2:]
    np.testing.assert_allclose(late, MU, rtol=0.02)
    assert np.mean(late) == pytest.approx(MU, rel=3e-3)
    assert ratio[t0:].max() < MU * (1 + 1e-3)


def test_constant_tangential_load_below_limit_does_not_creep(scene):
    w, gel, pair = scene
    n = PRESS + HOLD + DRAG
    shift = 0.05e-3
    t_hold = PRESS + HOLD + 100
    f, nodes = _run(w, pair, _smooth_drag(shift, PRESS + HOLD, 30, n), n, record=(t_hold, n))
    ratio = -f[:, 0] / np.maximum(f[:, 2], 1e-30)
    assert 0.1 * MU < ratio[t_hold] < 0.9 * MU
    assert np.all(ratio[t_hold:] < 0.9 * MU)
    # Held for 2000 more substeps: the tangential load and the contact nodes stay put
    # (window means: penalty contact keeps a small steady chatter of a few substeps).
    first, last = ratio[t_hold: t_hold + 30].mean(), ratio[n - 30: n].mean()
    assert last == pytest.approx(first, rel=1e-3)
    cn = gel.geo.contact_nodes
    drift = nodes[n][cn] - nodes[t_hold][cn]
    assert np.abs(drift[:, 0]).max() < 1e-3 * shift
