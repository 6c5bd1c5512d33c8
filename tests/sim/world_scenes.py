"""Small worlds shared by the world tests."""

import numpy as np

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box

ti = import_taichi()
TOP = 0.003


def press_world(batch=1, dtype=None, requires_grad=False, segment=2, substeps=5, beta=0.0,
                E=5e4, nu=0.35, kn=2e9, kd=1e4, kt=1e9, mu=0.4, alpha=20.0, dt=1e-5):
    """A 4x4x2-cell pad under a sphere; returns (world, gel, ball, pair)."""
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    dtype = dtype or ti.f64
    mesh = structured_box((0.006, 0.006, TOP), (4, 4, 2))
    w = World(batch=batch, dt=dt, substeps=substeps, dtype=dtype,
              requires_grad=requires_grad, segment=segment)
    gel = w.add(FEMBody("gel", mesh, E=E, nu=nu, density=1000.0, alpha=alpha, beta=beta))
    ball = w.add(KinematicRigid("ball", Sphere(4e-3, dtype=dtype),
                                pose=(0, 0, TOP + 4e-3, 0, 0, 0)))
    pair = w.add_pair(ContactPair(gel, ball, kn=kn, kd=kd, kt=kt, mu=mu, name="press"))
    return w, gel, ball, pair


def press_slide_actions(T, batch=1):
    """Ball down by 0.3 mm over the first third, then sideways by 0.2 mm with a twist
    about a tilted axis; the sensor frame drifts in y and tilts slightly."""
    s = np.linspace(0, 1, T + 1)[1:, None]
    ball = np.hstack([0.2e-3 * np.clip(2 * s - 1, 0, 1), 0 * s,
                      TOP + 4e-3 - 0.3e-3 * np.clip(3 * s, 0, 1),
                      0.05 * s, 0.02 * s, 0.3 * s])
    gel = np.hstack([0 * s, 0.05e-3 * s, 0 * s, 0.01 * s, 0 * s, 0.002 * s])
    return [{"ball": np.tile(ball[i], (batch, 1)), "gel": np.tile(gel[i], (batch, 1))}
            for i in range(T)]
