"""Quasi-static solves through the world: frame invariance, state left in the world,
adjoint gradients in the world's names against central differences, clear refusals."""

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box
from tacsuite.sim.se3 import rotation_matrix

ti = import_taichi()
TOP, R, DEPTH, E, MU = 0.003, 4e-3, 0.2e-3, 5e4, 0.3
GEL1 = np.array([1e-3, -2e-3, 5e-4, 0.3, -0.2, 0.5])      # env 1: the whole scene moved


def _world():
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    from tacsuite.sim.world_statics import StaticSolver
    w = World(batch=2, dt=1e-8, dtype=ti.f64)
    mesh = structured_box((0.006, 0.006, TOP), (8, 8, 2))   # 5 nodes in contact
    gel = w.add(FEMBody("gel", mesh, E=E, nu=0.3, density=1000.0,
                        pose=np.stack([np.zeros(6), GEL1])))
    ball = w.add(KinematicRigid("ball", Sphere(R, dtype=ti.f64)))
    pair = w.add_pair(ContactPair(gel, ball, kn=5e9, kt=5e9, mu=MU, name="press"))
    return w, gel, ball, pair, StaticSolver(w)


def _ball_poses(z):
    Rg = rotation_matrix(GEL1[3:])
    return np.stack([[0, 0, z, 0, 0, 0], np.r_[Rg @ [0, 0, z] + GEL1[:3], GEL1[3:]]])


@pytest.fixture(scope="module")
def solved():
    w, gel, ball, pair, static = _world()
    w.reset()
    out = static.solve({"ball": _ball_poses(TOP + R - DEPTH)})
    return w, gel, ball, pair, static, out


def test_the_solve_is_frame_invariant_and_stays_in_the_world(solved):
    w, gel, ball, pair, static, out = solved
    f0, f1 = out
    assert f0["force"] > 0 and f0["contact_radius"] > 0
    assert f1["force"] == pytest.approx(f0["force"], rel=1e-9)
    Rg = rotation_matrix(GEL1[3:])
    np.testing.assert_allclose(f1["force_vector"], Rg @ f0["force_vector"], rtol=0,
                               atol=1e-9 * f0["force"])
    x = gel.positions()
    np.testing.assert_allclose(x[1], x[0] @ Rg.T + GEL1[:3], rtol=0, atol=1e-12)
    assert np.abs(x[0] - gel.rest_positions()[0]).max() > 0.1 * DEPTH    # it did deform
    np.testing.assert_array_equal(gel.velocities(), 0.0)
    st = w.get_state()
    np.testing.assert_allclose(st["ball"]["pose"], _ball_poses(TOP + R - DEPTH))
    stuck = st["press"]["stuck"]
    assert stuck[0].sum() > 0 and np.array_equal(stuck[0], stuck[1])
    # Anchors live in the ball's frame: the same in both environments.
    np.testing.assert_allclose(st["press"]["anchor"][1], st["press"]["anchor"][0], rtol=0,
                               atol=1e-12)
    assert f0["force"] == pytest.approx(static.gel.readout()["force"], rel=1e-12)


def test_static_gradients_match_central_differences(solved):
    w, gel, ball, pair, static, out = solved
    g = static.gradients()
    # Every node in contact sticks here (mu only caps slipping nodes), so the friction
    # parameter seen is the tangential stiffness kt.
    assert g["params"]["press"]["kt"] != 0 and g["params"]["gel"]["E"] > 0

    def force(**kw):
        owner = gel if "E" in kw else pair      # noqa: SIM108
        base = {k: owner.params()[k].copy() for k in kw}
        owner.set_params(**{k: base[k] + v for k, v in kw.items()})
        w.reset()
        F = static.solve({"ball": _ball_poses(TOP + R - DEPTH)})[0]["force"]
        owner.set_params(**base)
        return F

    for name, owner, h in (("E", "gel", 1e-4 * E), ("kt", "press", 1e-4 * 5e9)):
        fd = (force(**{name: h}) - force(**{name: -h})) / (2 * h)
        assert g["params"][owner][name] == pytest.approx(fd, rel=1e-4), name
    z = TOP + R - DEPTH
    h = 1e-7
    w.reset()
    up = static.solve({"ball": _ball_poses(z + h)})[0]["force"]
    w.reset()
    down = static.solve({"ball": _ball_poses(z - h)})[0]["force"]
    # The depth also moves where the nodes first touch (their anchors, `ajac`): 2e-7.
    assert g["actions"]["ball"][2] == pytest.approx((up - down) / (2 * h), rel=1e-5)


def test_gradients_go_back_through_every_load_step_with_partial_slip(solved):
    """Three load steps: each step's anchors come from the one before (friction_history)."""
    w, gel, ball, pair, static, out = solved
    zs = [TOP + R - DEPTH * s / 3 for s in (1, 2, 3)]
    mu0 = pair.params()["mu"].copy()

    def sequence(moved=None, dz=0.0):
        w.reset()
        for s, z in enumerate(zs):
            res = static.solve({"ball": _ball_poses(z + (dz if s == moved else 0.0))})
        return res[0]["force"]

    try:
        pair.set_params(mu=np.full(2, 0.1))
        sequence()
        fr = static.gel.friction_readout()
        touching = fr["normal"] > 0
        assert np.any(touching & (fr["state"] == 2)) and np.any(touching & (fr["state"] == 1))
        g = static.gradients()
        bad = []
        for name, owner, h, rel in (("E", gel, 1e-4 * E, 1e-5), ("kn", pair, 5e5, 1e-4),
                                    ("mu", pair, 1e-4, 1e-3), ("kt", pair, 5e5, 3e-3)):
            base = owner.params()[name].copy()
            runs = []
            for sgn in (1, -1):
                owner.set_params(**{name: base + sgn * h})
                runs.append(sequence())
            owner.set_params(**{name: base})
            fd = (runs[0] - runs[1]) / (2 * h)
            got = g["params"]["gel" if owner is gel else "press"][name]
            if not abs(got - fd) <= rel * abs(fd):
                bad.append(f"d/d{name}: adjoint {got:.6e} vs FD {fd:.6e}")
        steps = g["action_steps"]["ball"]
        assert steps.shape == (3, 3)
        for s in (0, 1):          # the earlier steps' indenter heights act through anchors
            fd = (sequence(s, 1e-7) - sequence(s, -1e-7)) / 2e-7
            if not abs(steps[s, 2] - fd) <= 1e-3 * abs(steps[2, 2]):
                bad.append(f"d/dz of step {s}: adjoint {steps[s, 2]:.6e} vs FD {fd:.6e}")
        assert not bad, bad
    finally:
        pair.set_params(mu=mu0)
        w.reset()


def test_static_solve_refuses_what_it_cannot_solve():
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World
    from tacsuite.sim.world_statics import StaticSolver
    mesh = structured_box((0.006, 0.006, TOP), (2, 2, 1))
    w = World(dt=1e-8, dtype=ti.f64, gravity=(0, 0, -9.81))
    gel = w.add(FEMBody("gel", mesh, E=E, nu=0.3, density=1000.0))
    a = w.add(KinematicRigid("a", Sphere(R, dtype=ti.f64)))
    b = w.add(KinematicRigid("b", Sphere(R, dtype=ti.f64)))
    w.add_pair(ContactPair(gel, a, kn=5e9))
    with pytest.raises(ValueError, match="gravity must be zero"):
        StaticSolver(w)
    w.gravity[None] = [0.0, 0.0, 0.0]
    w.add_pair(ContactPair(gel, b, kn=5e9))
    with pytest.raises(ValueError, match="takes one contact pair"):
        StaticSolver(w)
    with pytest.raises(ValueError, match="also in"):
        StaticSolver(w, pair="gel-a")
