"""Maxima over contact nodes in the stick/slip solver are exact and repeatable.

`m = ti.max(m, v)` on a kernel scalar inside Taichi's parallel loop is a data race: a
thread can overwrite a larger value written by another. On 2 threads and 40k nodes it
returned a wrong maximum in 8 of 400 calls (2 %); the atomic maximum must never.
"""

import numpy as np

from tacsuite.sim.backend import ensure_init, import_taichi

ti = import_taichi()


def test_largest_cap_and_friction_change_are_exact_over_many_calls():
    ensure_init()
    from tacsuite.sim.friction_statics import FrictionalQuasiStaticGel
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.mesh import structured_box
    mesh = structured_box((0.02, 0.02, 0.002), (200, 200, 1))
    ind = Sphere(0.05, dtype=ti.f64)
    kn, mu = 1e9, 0.5
    gel = FrictionalQuasiStaticGel(mesh, 1e5, 0.3, kn, ind, mu, dtype=ti.f64)
    # Off-centre, so the penetration (and each thread's running maximum) varies smoothly.
    ind.set_pose([0.012, 0.0, 0.002 + 0.05 - 1e-3])
    phi = gel.node_distances()
    cap = np.max(-mu * kn * gel.contact_area * phi)
    assert (phi < 0).sum() > 5000
    caps = np.array([gel.max_cap(gel.x) for _ in range(1500)])
    assert np.all(caps == cap), f"{np.sum(caps != cap)} of 1500 maxima wrong"
    # The largest change of the Coulomb caps: anchored nodes moved along the slope of the
    # off-centre sphere, so every cap changes by a different amount.
    gel.attach_new_contacts(gel.x)
    shift = np.zeros_like(gel.x.to_numpy())
    shift[:, 0] = 3e-4
    gel.x.from_numpy(gel.x.to_numpy() + shift)
    lim = gel.lim.to_numpy()
    first = gel.update_caps(gel.x)
    assert first > 0
    changes = []
    for _ in range(200):
        gel.lim.from_numpy(lim)
        changes.append(gel.update_caps(gel.x))
    assert len(set(changes)) == 1, sorted(set(changes))[:5]
