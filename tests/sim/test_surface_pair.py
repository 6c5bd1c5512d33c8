"""SurfacePair: deformable objects against the gel's deforming surface.

Newton's third law per substep, no leak through the surface in a 1 mm press (where a
nearest-centroid search would let particles through), gradients against central
differences, and a batch of two parameter sets against two single runs.
"""

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box

ti = import_taichi()
TOP = 0.003  # gel pad thickness
FLIP = np.pi  # the pad faces down: rotation of pi about x maps its top face to -z


def _parts():
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.ground import Ground
    from tacsuite.sim.surface_pair import SurfacePair
    from tacsuite.sim.world import World
    return ContactPair, FEMBody, Ground, SurfacePair, World


def gel_over_cable(batch=1, mu=0.5, kn=1e8):
    """A 4 x 4 x 3 mm pad facing down on a cable (radius 0.3 mm) lying on the ground;
    the pad's face starts 20 um into its top. Returns (world, cable, surface pair, floor
    pair, pose)."""
    ContactPair, FEMBody, Ground, SurfacePair, World = _parts()
    from tacsuite.sim.cable import Cable
    w = World(batch=batch, dt=2e-5, substeps=5, dtype=ti.f64, requires_grad=True, segment=3)
    r = 3e-4
    pose = np.array([0.0, 0.0, TOP + 2 * r - 2e-5, FLIP, 0.0, 0.0])
    w.add(FEMBody("gel", structured_box((0.004, 0.004, TOP), (2, 2, 1)), E=5e4, nu=0.3,
                  density=1000.0, alpha=50.0, pose=pose))
    pts = np.linspace([-0.0035, 0.0003, r], [0.0035, 0.0003, r], 8)
    cab = w.add(Cable("rope", pts, radius=r, E=5e5, density=1000.0, alpha=50.0))
    floor = w.add_pair(ContactPair(cab, w.add(Ground("ground")), kn=1e8, kt=1e8, mu=0.2,
                                   name="floor"))
    pair = w.add_pair(SurfacePair(cab, w.named("gel"), kn=kn, kt=1e8, mu=mu, name="touch"))
    return w, cab, pair, floor, pose


def press_slide(pose, T, batch=1, depth=1e-4, slide=3e-4, dz=0.0, k=0):
    """The pad presses `depth` further while sliding `slide` along y (dz lowers step k)."""
    out = []
    for i in range(T):
        p = pose.copy()
        s = (i + 1) / T
        p[1] += slide * s
        p[2] -= depth * s + (dz if i == k else 0.0)
        out.append({"gel": np.tile(p, (batch, 1))})
    return out


T_GRAD = 6


@pytest.fixture(scope="module")
def cable_world():
    return gel_over_cable()


def test_force_on_gel_is_exactly_opposite_to_force_on_object_every_substep(cable_world):
    w, cab, pair, floor, pose = cable_world
    w.reset()
    for a in press_slide(pose, w.segment):
        w.step(a)
    # With gradients every substep of the segment keeps its slot. The cable's
    # accumulator holds its internal forces (summing to zero), the floor's and the pad's;
    # the floor's are minus the floor pair's record.
    checked, worst = 0, 0.0
    for t in range(w.segment * w.substeps):
        on_obj = w.io.read(cab.f, t)[0].sum(axis=0) + w.io.read(floor.force_acc, t)[0]
        on_gel = w.io.read(pair.node_force, t)[0].sum(axis=0)
        scale = np.abs(on_obj).max()
        if scale == 0:
            continue
        worst = max(worst, np.abs(on_gel + on_obj).max() / scale)
        np.testing.assert_allclose(w.io.read(pair.force_acc, t)[0], on_gel, rtol=0,
                                   atol=1e-10 * scale)
        checked += 1
    assert checked == w.segment * w.substeps, "the pad lost the cable"
    assert worst < 1e-10, f"force balance residual {worst:.2e} (relative)"


def test_one_mm_press_of_a_block_does_not_leak_where_nearest_centroid_would():
    """A 4 x 4 x 2 mm elastic MPM block on the ground, the pad pressed 1 mm into it."""
    ContactPair, FEMBody, Ground, SurfacePair, World = _parts()
    from tacsuite.sim.mpm import MPMBody, sample_primitive
    from tacsuite.sim.spatial_hash import closest_points_bruteforce, nearest_centroid_inside
    H = 0.002
    w = World(dt=2e-5, substeps=10, dtype=ti.f64, gravity=(0, 0, -9.81))
    pose = np.array([0.0, 0.0, H + TOP, FLIP, 0.0, 0.0])
    gel = w.add(FEMBody("gel", structured_box((0.006, 0.006, TOP), (4, 4, 2)), E=5e4,
                        nu=0.3, density=1000.0, alpha=50.0, pose=pose))
    pts = sample_primitive("box", 0.5e-3, size=(0.004, 0.004, H), center=(0, 0, H / 2))
    blk = w.add(MPMBody("blk", pts, 1e-3, E=1e5, nu=0.3, density=1000.0, alpha=20.0,
                        margin=2))
    w.add_pair(ContactPair(blk, w.add(Ground("ground")), kn=1e8, kt=1e8, mu=0.5))
    pair = w.add_pair(SurfacePair(blk, gel, kn=1e8, kt=1e8, mu=0.5, name="touch"))
    w.reset()
    T = 40
    worst = 0.0
    for i in range(T):
        p = pose.copy()
        p[2] -= 1e-3 * min(1.0, (i + 1) / (0.75 * T))
        w.step({"gel": p})
        worst = min(worst, pair.penetration().min())
    # Penalty contact lets the surface sink by about pressure / kn: the block carries
    # ~0.13 N over 16 mm^2 (8 kPa), 0.08 mm at kn = 1e8 Pa/m; no particle may go deeper
    # than 0.15 mm (a leaking particle would sink with the 1 mm press).
    assert pair.force()[0, 2] > 0.05, "the press did not load the block"
    assert -worst < 1.5e-4, f"a particle sank {-worst:.2e} m into the gel"
    x, verts = blk.positions()[0], gel.positions()[0]
    tris = gel.mesh.surface_tris
    exact = closest_points_bruteforce(x, verts, tris)
    centroid = nearest_centroid_inside(x, verts, tris)
    assert -exact["dist"].min() < 1.5e-4
    inside = exact["dist"] < 0
    assert inside.sum() > 10, "too few particles in contact to tell"
    missed = inside & ~centroid
    assert missed.sum() > 0, "nearest-centroid would have caught every particle here"


def _loss(w, blk, pair, pose, wx, dz=0.0, **params):
    if params:
        w.reset()
        pair.set_params(**params)
    w.rollout(press_slide(pose, T_GRAD, dz=dz))
    return float((wx * blk.positions()).sum())


def test_gradients_of_final_object_state_match_central_differences(cable_world):
    w, blk, pair, floor, pose = cable_world
    wx = np.random.default_rng(0).normal(size=(1, blk.n, 3))
    base = dict(kn=1e8, mu=0.5)
    _loss(w, blk, pair, pose, wx, **base)
    g = w.backward({T_GRAD: {"rope.x": wx}})
    h = 1e-7
    fd = (_loss(w, blk, pair, pose, wx, dz=h) - _loss(w, blk, pair, pose, wx, dz=-h)) / (2 * h)
    assert abs(fd) > 1e-3, "the first action does not reach the cable"
    # dz lowers the pad: d/dz of the first action's height is -fd
    np.testing.assert_allclose(g["actions"]["gel"][0, 0, 2], -fd, rtol=1e-6)
    for name, step in (("kn", 1e4), ("mu", 1e-4)):
        lp = _loss(w, blk, pair, pose, wx, **{**base, name: base[name] + step})
        lm = _loss(w, blk, pair, pose, wx, **{**base, name: base[name] - step})
        np.testing.assert_allclose(g["params"]["touch"][name][0], (lp - lm) / (2 * step),
                                   rtol=1e-6)
    w.reset()
    pair.set_params(**base)


def test_batch_of_two_parameter_sets_equals_two_single_runs(cable_world):
    w1, cab1, pair1, _, pose = cable_world
    w2, cab2, pair2, _, _ = gel_over_cable(batch=2)
    mus, kns = np.array([0.5, 0.2]), np.array([1e8, 2e8])
    w2.reset()
    pair2.set_params(mu=mus, kn=kns)
    w2.rollout(press_slide(pose, T_GRAD, batch=2))
    wx = np.random.default_rng(1).normal(size=(2, cab2.n, 3))
    g2 = w2.backward({T_GRAD: {"rope.x": wx}})
    x2 = cab2.positions()
    for b in range(2):
        w1.reset()
        pair1.set_params(mu=mus[b], kn=kns[b])
        w1.rollout(press_slide(pose, T_GRAD))
        g1 = w1.backward({T_GRAD: {"rope.x": wx[b:b + 1]}})
        # parallel atomic sums reorder floats: equal to rounding, not bit for bit
        np.testing.assert_allclose(x2[b], cab1.positions()[0], rtol=0, atol=1e-14)
        np.testing.assert_allclose(g2["actions"]["gel"][:, b], g1["actions"]["gel"][:, 0],
                                   rtol=1e-9, atol=1e-12)
        for k in ("kn", "mu"):
            np.testing.assert_allclose(g2["params"]["touch"][k][b],
                                       g1["params"]["touch"][k][0], rtol=1e-9)
    assert np.abs(x2[0] - x2[1]).max() > 1e-7, "the two parameter sets gave the same run"
    w1.reset()
    pair1.set_params(mu=0.5, kn=1e8)


def test_surface_pair_refuses_a_rigid_second_body_and_a_bad_cutoff():
    ensure_init()
    from tacsuite.sim.ground import Ground
    from tacsuite.sim.mpm import MPMBody
    from tacsuite.sim.surface_pair import SurfacePair
    blk = MPMBody("b", np.zeros((1, 3)), 1e-3, E=1e5, nu=0.3, density=1000.0)
    with pytest.raises(ValueError, match="deforming surface"):
        SurfacePair(blk, Ground("g"), kn=1e8)
    from tacsuite.sim.fem_body import FEMBody
    gel = FEMBody("gel", structured_box((0.004, 0.004, TOP), (2, 2, 1)), E=5e4, nu=0.3,
                  density=1000.0)
    with pytest.raises(ValueError, match="cutoff"):
        SurfacePair(blk, gel, kn=1e8, cutoff=-1.0)
    # A cable's nodes touch at its radius: a cutoff inside the radius would never see it.
    from tacsuite.sim.cable import Cable
    from tacsuite.sim.world import World
    w = World(dt=1e-5, dtype=ti.f64)
    w.add(gel)
    cab = w.add(Cable("rope", np.linspace([0, 0, 0.01], [0.004, 0, 0.01], 3), radius=1e-3,
                      E=1e6, density=1000.0))
    with pytest.raises(ValueError, match=r"cutoff 0.0005 m .* contact offset 0.001 m"):
        w.add_pair(SurfacePair(cab, gel, kn=1e8, cutoff=5e-4))
