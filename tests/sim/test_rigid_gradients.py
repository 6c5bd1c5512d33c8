"""Reverse mode through a dynamic rigid body's contact, against central differences."""

import numpy as np

from tacsuite.sim import quat
from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.contact_pair import ContactPair
from tacsuite.sim.ground import Ground
from tacsuite.sim.rigid import RigidBody
from tacsuite.sim.rigid_shapes import make_shape
from tacsuite.sim.world import World

ensure_init()
ti = import_taichi()

STEPS = 3
W = np.array([0.3, -0.2, 1.0])          # loss weights on the final position
WQ = np.array([0.0, 0.5, 1.0, -0.7])    # ... and on the final orientation


def sliding_block():
    """A tilted box landing on its lowest corner while sliding: contact, friction and
    rotation in every step."""
    rot = np.array([0.05, 0.03, 0.0])
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    lowest = (corners * [0.02, 0.02, 0.01]) @ quat.np_to_matrix(
        quat.np_from_rotation_vector(rot)).T
    z0 = -lowest[:, 2].min() - 2e-6
    w = World(batch=1, dt=5e-5, substeps=20, dtype=ti.f64, gravity=(0, 0, -9.81),
              requires_grad=True, segment=2)
    ground = w.add(Ground("ground"))
    box = w.add(RigidBody("box", make_shape("box", dtype=ti.f64, half_extents=(0.02, 0.02, 0.01)),
                          density=1000.0, pose=(0, 0, z0, *rot),
                          velocity=(0.2, 0.05, -0.1), angular_velocity=(0.5, -1.0, 2.0)))
    pair = w.add_pair(ContactPair(box, ground, kn=2e7, kd=2e3, kt=2e7, mu=0.4))
    return w, box, pair


def loss(w, box):
    s = box.state()
    return float(W @ s["x"][0] + WQ @ s["q"][0])


def run(w, box, v0=None, mu=None, density=None):
    w.reset()                       # parameters may change only on an empty tape
    if v0 is not None:
        box.set_initial(velocity=v0)
    if mu is not None:
        w.named("box-ground").set_params(mu=mu)
    if density is not None:
        box.set_params(density=density)
    w.reset()
    for _ in range(STEPS):
        w.step()
    return loss(w, box)


def test_gradients_through_rigid_contact_match_central_differences():
    w, box, pair = sliding_block()
    v0 = np.array([0.2, 0.05, -0.1])
    run(w, box)
    assert np.abs(pair.force()).max() > 0.05            # the block is in contact
    seeds = {STEPS: {"box.x": W[None, :], "box.q": WQ[None, :]}}
    g = w.backward(seeds)
    gv = g["initial"]["box"]["v"][0]
    g_mu = g["params"]["box-ground"]["mu"][0]
    g_rho = g["params"]["box"]["density"][0]
    h = 1e-6
    for k in (0, 2):                # along the slide and into the ground
        e = np.zeros(3)
        e[k] = h
        fd = (run(w, box, v0=v0 + e) - run(w, box, v0=v0 - e)) / (2 * h)
        assert abs(gv[k] - fd) <= 1e-5 * max(1.0, abs(fd)), (k, gv[k], fd)
    run(w, box, v0=v0)
    fd_mu = (run(w, box, mu=0.4 + h) - run(w, box, mu=0.4 - h)) / (2 * h)
    run(w, box, mu=0.4)
    assert abs(g_mu - fd_mu) <= 1e-5 * max(1.0, abs(fd_mu)) and abs(fd_mu) > 1e-5
    fd_rho = (run(w, box, density=1000.0 + 1e-3) - run(w, box, density=1000.0 - 1e-3)) / 2e-3
    assert abs(g_rho - fd_rho) <= 1e-4 * max(1e-6, abs(fd_rho)) + 1e-12
