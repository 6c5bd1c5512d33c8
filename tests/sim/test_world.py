"""The world: batch equivalence, carried gel, stability bound, quasi-static limit, errors."""

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box
from tests.sim.world_scenes import TOP, press_slide_actions, press_world

ti = import_taichi()
T = 5


# ----- batch: B environments == B separate runs, forward and backward ---------------------
ENVS = [dict(E=5e4, kn=2e9, mu=0.4, alpha=20.0, shift=0.0),
        dict(E=8e4, kn=3e9, mu=0.2, alpha=50.0, shift=0.05e-3),
        dict(E=3e4, kn=1e9, mu=0.6, alpha=0.0, shift=-0.08e-3)]


def _env_actions(T, shifts):
    acts = press_slide_actions(T, batch=len(shifts))
    for a in acts:
        a["ball"][:, 2] -= np.asarray(shifts)
    return acts


def _run_and_grad(w, gel, pair, acts):
    w.reset()
    for a in acts:
        w.step(a)
    F = np.array(pair.history)
    x = gel.positions()
    B = w.batch
    seeds = {i + 1: {"press.force": np.tile([0.3, -0.2, 1.0], (B, 1))} for i in range(T)}
    seeds[T]["gel.x"] = np.ones((B, gel.n, 3))
    return F, x, w.backward(seeds)


def test_batch_matches_separate_runs_forward_and_backward():
    B = len(ENVS)
    per = {k: np.array([e[k] for e in ENVS]) for k in ("E", "kn", "mu", "alpha")}
    w, gel, ball, pair = press_world(batch=B, requires_grad=True, segment=2, E=per["E"],
                                     kn=per["kn"], mu=per["mu"], alpha=per["alpha"])
    per_shift = [e["shift"] for e in ENVS]
    Fb, xb, gb = _run_and_grad(w, gel, pair, _env_actions(T, per_shift))
    assert np.ptp(Fb[-1, :, 2]) > 0.1 * np.abs(Fb[-1, :, 2]).max()   # the envs really differ
    w1, gel1, ball1, pair1 = press_world(batch=1, requires_grad=True, segment=2)
    for b, env in enumerate(ENVS):
        w1.reset()
        gel1.set_params(E=env["E"], alpha=env["alpha"])
        pair1.set_params(kn=env["kn"], mu=env["mu"])
        F1, x1, g1 = _run_and_grad(w1, gel1, pair1, _env_actions(T, [per_shift[b]]))
        # Same arithmetic per environment; parallel atomic sums may reorder the additions.
        np.testing.assert_allclose(Fb[:, b], F1[:, 0], rtol=1e-9, atol=1e-12 * np.abs(F1).max())
        np.testing.assert_allclose(xb[b], x1[0], rtol=1e-12, atol=1e-15)
        for name in ("E", "nu", "density", "alpha"):
            np.testing.assert_allclose(gb["params"]["gel"][name][b], g1["params"]["gel"][name][0],
                                       rtol=1e-8)
        for name in ("kn", "kd", "kt", "mu"):
            np.testing.assert_allclose(gb["params"]["press"][name][b],
                                       g1["params"]["press"][name][0], rtol=1e-8)
        for body in ("ball", "gel"):
            ref = g1["actions"][body][:, 0]
            np.testing.assert_allclose(gb["actions"][body][:, b], ref, rtol=1e-8,
                                       atol=1e-10 * np.abs(ref).max())


# ----- reverse mode leaves the forward records alone --------------------------------------
@pytest.mark.slow  # ~50 s; make test keeps the batch forward/backward test
def test_backward_does_not_rerecord_forces_or_move_the_state():
    w, gel, ball, pair = press_world(requires_grad=True, segment=2)
    acts = press_slide_actions(T)
    w.reset()
    for a in acts:
        w.step(a)
    hist, x, F = np.array(pair.history), gel.positions(), pair.force()
    seeds = {T: {"press.force": np.array([[0.0, 0.0, 1.0]])}}
    g1 = w.backward(seeds)
    assert len(pair.history) == T
    np.testing.assert_array_equal(np.array(pair.history), hist)
    np.testing.assert_allclose(gel.positions(), x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pair.force(), F, rtol=1e-10)
    g2 = w.backward(seeds)                      # a second pass gives the same gradient
    np.testing.assert_allclose(g2["actions"]["ball"], g1["actions"]["ball"], rtol=1e-10)
    # Stepping on after backward continues the same trajectory as without it.
    w.step(acts[-1])
    w2, gel2, _, pair2 = press_world(requires_grad=True, segment=2)
    w2.reset()
    for a in acts + [acts[-1]]:
        w2.step(a)
    np.testing.assert_allclose(gel.positions(), gel2.positions(), rtol=1e-10, atol=1e-15)


# ----- mass damping acts on the velocity relative to the sensor frame ---------------------
def test_gel_carried_at_constant_velocity_stays_undeformed():
    ensure_init()
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.world import World
    H, speed, alpha = 0.004, 0.05, 2000.0      # 4 mm pad, 5 cm/s, strong mass damping
    mesh = structured_box((0.012, 0.012, H), (6, 6, 4))
    w = World(batch=1, dt=2e-6, substeps=10, dtype=ti.f64)
    gel = w.add(FEMBody("gel", mesh, E=5e4, nu=0.3, density=1000.0, alpha=alpha))
    v0 = np.tile([speed, 0.0, 0.0], (gel.n, 1))
    gel.set_initial(v=v0)
    w.reset()
    steps = 100                                  # 2 ms: 0.1 mm of travel
    for i in range(1, steps + 1):
        w.step({"gel": (speed * w.dt * w.substeps * i, 0, 0, 0, 0, 0)})
    p = speed * w.dt * w.substeps * steps
    rest = gel.rest_positions(pose=(p, 0, 0, 0, 0, 0))
    # Drag on the absolute velocity would shear the free top by ~alpha v H^2 rho / G.
    assert np.abs(gel.positions() - rest).max() < 1e-12
    np.testing.assert_allclose(gel.velocities()[0], v0, atol=1e-12)


# ----- the stable substep includes mass damping and contact damping -----------------------
def test_stability_limit_includes_alpha_and_kd_and_refuses_unstable_substeps():
    from tacsuite.sim.fem import damped_stable_dt
    w, gel, ball, pair = press_world(alpha=0.0, kd=0.0, kn=0.0, kt=0.0, dt=1e-6)
    ball.set_initial((0, 0, 1.0, 0, 0, 0))                        # out of contact
    w.reset()
    base = w.stability_limit()
    omega = 2.0 / base
    gel.set_params(alpha=1.5 * omega)          # mass damping rate 1.5 omega: xi = 0.75
    assert w.stability_limit() == pytest.approx(damped_stable_dt(omega**2, 1.5 * omega))
    assert w.stability_limit() == pytest.approx(0.5 * base)
    with_alpha = w.stability_limit()
    pair.set_params(kd=1e5)
    assert w.stability_limit() < 0.9 * with_alpha
    pair.set_params(kd=0.0)
    # 0.9 x the undamped bound is refused now...
    with pytest.raises(ValueError, match="stability limit"):
        w.set_dt(0.9 * base)
    with pytest.raises(ValueError, match="alpha"):
        gel.set_params(alpha=40 * omega)
    assert gel.values["alpha"][0] == pytest.approx(1.5 * omega)   # refused: unchanged

    # ...and it really is unstable: forced past the check, the free gel blows up.
    def energy_growth(dt):
        w.dt_field[None] = dt
        rng = np.random.default_rng(1)
        free = gel.geo.fixed_np.sum(axis=1) == 0
        v0 = np.zeros((gel.n, 3))
        v0[free] = rng.normal(scale=1e-3, size=(free.sum(), 3))
        gel.set_initial(v=v0)
        w.reset()
        e0 = gel.energy().sum()
        for _ in range(10):
            w.step()
        return gel.energy().sum() / e0

    growth = energy_growth(0.9 * base)
    assert not np.isfinite(growth) or growth > 1e6        # nan: elements inverted
    assert energy_growth(w.dt_limit) < 1.0
    w.dt_field[None] = w.dt


# ----- a damped explicit press settles to the quasi-static force --------------------------
def test_damped_press_settles_to_quasi_static_force():
    ensure_init()
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.statics import QuasiStaticGel
    from tacsuite.sim.world import World
    E, NU, R, depth, kn = 5e4, 0.3, 4e-3, 0.2e-3, 5e9
    mesh = structured_box((0.006, 0.006, TOP), (4, 4, 2))
    z = TOP + R - depth
    ind = Sphere(R, dtype=ti.f64)
    ind.set_pose([0.0, 0.0, z])
    qs = QuasiStaticGel(mesh, E, NU, kn, ind, dtype=ti.f64)
    qs.solve()
    f_static = qs.readout()["force"]
    w = World(batch=1, dt=1e-6, substeps=20, dtype=ti.f64)
    gel = w.add(FEMBody("gel", mesh, E=E, nu=NU, density=1000.0, alpha=8000.0))
    ball = w.add(KinematicRigid("ball", Sphere(R, dtype=ti.f64), pose=(0, 0, TOP + R, 0, 0, 0)))
    pair = w.add_pair(ContactPair(gel, ball, kn=kn, kd=2e5, name="press"))
    w.reset()
    w.set_dt(w.dt_limit)
    ramp = int(1e-3 / (w.dt * w.substeps))
    for i in range(1, 4 * ramp + 1):
        w.step({"ball": (0, 0, TOP + R - depth * min(i / ramp, 1.0), 0, 0, 0)})
    f = np.array(pair.history)[:, 0, 2]
    settled = f[-ramp // 4:].mean()
    assert f_static > 0
    assert settled == pytest.approx(f_static, rel=0.02)
    assert np.ptp(f[-ramp // 4:]) < 0.02 * f_static


# ----- clear errors -----------------------------------------------------------------------
def test_requires_grad_with_a_body_without_gradient_fields_names_the_fix():
    ensure_init()
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.world import World

    class Frozen(KinematicRigid):
        supports_grad = False

    w = World(batch=1, dtype=ti.f64, requires_grad=True)
    with pytest.raises(ValueError, match="requires_grad=False"):
        w.add(Frozen("frozen", Sphere(1e-3, dtype=ti.f64)))
    with pytest.raises(ValueError, match="dtype"):
        w.add(KinematicRigid("ball", Sphere(1e-3, dtype=ti.f32)))
    w2, gel, ball, pair = press_world()
    with pytest.raises(ValueError, match="already belongs to a world"):
        w.add(gel)
    with pytest.raises(ValueError, match="requires_grad=True"):
        w2.backward({})
    with pytest.raises(ValueError, match="only"):
        w2.step({"nobody": (0, 0, 0, 0, 0, 0)})
    with pytest.raises(ValueError, match=r"\(1, 6\)"):
        w2.step({"ball": (0, 0, 0)})
    with pytest.raises(ValueError, match="nu"):
        gel.set_params(nu=0.5)


# ----- float32 against float64 ------------------------------------------------------------
@pytest.mark.slow  # compiles every kernel a second time in float32 (~90 s)
def test_float32_forces_and_gradients():
    acts = press_slide_actions(T)
    out = {}
    for dtype in (ti.f32, ti.f64):
        w, gel, ball, pair = press_world(dtype=dtype, requires_grad=True, segment=2)
        w.reset()
        for a in acts:
            w.step(a)
        F = np.array(pair.history)[:, 0]
        g = w.backward({i + 1: {"press.force": np.array([[0.0, 0.0, 1.0]])} for i in range(T)})
        out[dtype] = (F, g, w, gel, pair)
    F32, g32 = out[ti.f32][:2]
    F64, g64 = out[ti.f64][:2]
    scale = np.abs(F64).max()
    assert np.abs(F32 - F64).max() < 1e-4 * scale
    # Central differences of the float64 world are the reference for the float32 adjoint.
    w, gel, pair = out[ti.f64][2:]

    def loss(name, value):
        w.reset()
        pair.set_params(**{name: value}) if name in pair.param_names else gel.set_params(
            **{name: value})
        for a in acts:
            w.step(a)
        return float(np.array(pair.history)[:, 0, 2].sum())

    for obj, name in ((gel, "E"), (pair, "kn"), (pair, "kd")):
        base = float(obj.values[name][0])
        eps = 1e-6 * base
        fd = (loss(name, base + eps) - loss(name, base - eps)) / (2 * eps)
        loss(name, base)
        a32 = g32["params"][obj.name][name][0]
        assert np.isfinite(a32)
        assert a32 == pytest.approx(fd, rel=1e-2)
        assert g64["params"][obj.name][name][0] == pytest.approx(fd, rel=1e-4)
    fd_pose = []
    for comp, eps in ((2, 1e-9), (3, 1e-6)):
        ap = [{k: v.copy() for k, v in a.items()} for a in acts]
        am = [{k: v.copy() for k, v in a.items()} for a in acts]
        ap[2]["ball"][0, comp] += eps
        am[2]["ball"][0, comp] -= eps
        vals = []
        for seq in (ap, am):
            w.reset()
            for a in seq:
                w.step(a)
            vals.append(float(np.array(pair.history)[:, 0, 2].sum()))
        fd_pose.append((comp, (vals[0] - vals[1]) / (2 * eps)))
    for comp, fd in fd_pose:
        a32 = g32["actions"]["ball"][2, 0, comp]
        assert np.isfinite(a32) and a32 == pytest.approx(fd, rel=1e-2, abs=1e-6 * abs(fd) + 1e-12)



def test_rollover_without_gradients_keeps_the_state_with_odd_substeps():
    # Without gradients the two state slots alternate; an odd number of substeps leaves
    # the state in slot 1 at the end of a control step, which the next step must start
    # from: the same trajectory as the gradient world's linear slots.
    acts = press_slide_actions(T)
    out = []
    for requires_grad in (False, True):
        w, gel, _, pair = press_world(substeps=5, requires_grad=requires_grad, segment=2)
        w.rollout(acts)
        out.append((gel.positions(), np.array(pair.history)))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12)
