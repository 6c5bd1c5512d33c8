"""Stick-slip friction: elastic rise to mu * F_n, sliding at mu * F_n, no creep when held."""

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box

ti = import_taichi()
E, NU, RHO, MU = 5e4, 0.3, 1000.0, 0.5
H = 0.004
PRESS, HOLD, DRAG = 1500, 500, 3000
DEPTH, SLIDE = 0.1e-3, 1.0e-3


@pytest.fixture(scope="module")
def gel():
    ensure_init()
    from tacsuite.sim.explicit import ExplicitGel
    from tacsuite.sim.indenters import Box
    mesh = structured_box((0.012, 0.012, H), (12, 12, 4))
    horizon = PRESS + HOLD + DRAG
    # A plate wider than the pad: the drag force is friction only (no ploughing edge).
    ind = Box((20e-3, 20e-3, 2e-3), n_poses=horizon + 1, dtype=ti.f64)
    g = ExplicitGel(mesh, E, NU, RHO, dt=1e-6, indenter=ind, horizon=horizon, segment=500,
                    alpha=3000.0, kn=100 * E / 1e-3, kd=0.0, kt=100 * E / 1e-3, mu=MU,
                    dtype=ti.f64)
    g.set_params(dt=0.8 * g.dt_critical)
    return g


def _smooth_drag(distance, start, duration, n):
    """Indenter x: the velocity ramps up over the first tenth, then is constant until it stops."""
    u = (np.arange(n + 1) - start) / duration
    vel = np.clip(u / 0.1, 0.0, 1.0) * (u < 1.0)
    x = np.concatenate([[0.0], np.cumsum(vel[1:])])
    return distance * x / x[-1]


def _poses(x, n):
    steps = np.arange(n + 1)
    z = H + 2e-3 - DEPTH * np.clip(steps / PRESS, 0, 1)
    return np.stack([x, 0 * steps, z], axis=1)


def test_tangential_force_sticks_then_slides_at_coulomb_limit(gel):
    n = gel.horizon
    drag = _smooth_drag(SLIDE, PRESS + HOLD, DRAG, n)
    gel.set_actions(indenter=_poses(drag, n), sensor=np.zeros((n + 1, 3)))
    gel.reset()
    f = gel.rollout(n)["indenter_force"]
    fn, ft = f[:, 2], f[:, 0]
    t0 = PRESS + HOLD
    assert fn[t0 - 1] > 0
    assert abs(ft[t0 - 1]) < 0.02 * fn[t0 - 1]     # a symmetric press: almost no shear
    ratio = -ft / np.maximum(fn, 1e-30)                    # friction opposes the drag (+x)
    # Stick: the force first grows in proportion to the drag distance.
    early = ratio[t0 + 50: t0 + 450: 50]
    assert np.all(np.diff(early) > 0) and early[-1] < 0.9 * MU
    assert ratio[t0 + 100] < 0.2 * MU
    # Slide: it then saturates at mu * F_n and stays there.
    late = ratio[t0 + DRAG // 2:]
    np.testing.assert_allclose(late, MU, rtol=0.02)
    assert np.mean(late) == pytest.approx(MU, rel=3e-3)
    assert ratio[t0:].max() < MU * (1 + 1e-3)


def test_constant_tangential_load_below_limit_does_not_creep(gel):
    n = gel.horizon
    shift = 0.05e-3
    move = _smooth_drag(shift, PRESS + HOLD, 300, n)
    gel.set_actions(indenter=_poses(move, n), sensor=np.zeros((n + 1, 3)))
    gel.reset()
    out = gel.rollout(n, record=[PRESS + HOLD + 1000, n])
    f = out["indenter_force"]
    ratio = -f[:, 0] / np.maximum(f[:, 2], 1e-30)
    t_hold = PRESS + HOLD + 1000
    assert 0.1 * MU < ratio[t_hold] < 0.9 * MU
    assert np.all(ratio[t_hold:] < 0.9 * MU)
    # Held for 2000 more substeps: the tangential load and the contact nodes stay put
    # (window means: penalty contact keeps a small steady chatter of a few substeps).
    first, last = ratio[t_hold: t_hold + 300].mean(), ratio[n - 300: n].mean()
    assert last == pytest.approx(first, rel=1e-3)
    nodes = gel.contact_nodes
    drift = out["x"][n][nodes] - out["x"][t_hold][nodes]
    assert np.abs(drift[:, 0]).max() < 1e-3 * shift
