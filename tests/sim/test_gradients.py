"""Adjoint (quasi-static) and reverse-mode (explicit rollout) gradients vs central FD, float64."""

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box

ti = import_taichi()
PRESS = dict(indenter="sphere", radius=5e-3, E=1e5, nu=0.3, pad=(0.01, 0.01, 0.005),
             mesh_size=5e-4, steps=2)


@pytest.fixture(scope="module")
def pressed():
    from tacsuite.sim.press import press
    res = press(depth=3e-4, grad=("E", "nu", "depth", "kn"), **PRESS)
    return res


@pytest.mark.parametrize("name,rel", [("E", 1e-4), ("nu", 1e-5), ("depth", 1e-5)])
def test_press_gradient_matches_central_differences(pressed, name, rel):
    from tacsuite.sim.press import press
    solver = pressed.info["solver"]
    base = {"E": PRESS["E"], "nu": PRESS["nu"], "depth": 3e-4}
    eps = rel * abs(base[name])

    def force(value):
        kw = {**PRESS, **base, name: value}
        return press(solver=solver, **kw).force

    fd = (force(base[name] + eps) - force(base[name] - eps)) / (2 * eps)
    assert pressed.grad[name] == pytest.approx(fd, rel=1e-3)
    assert abs(pressed.grad[name]) > 0


def test_press_kn_gradient(pressed):
    from tacsuite.sim.press import press
    solver = pressed.info["solver"]
    kn = pressed.info["kn"]
    eps = 1e-4 * kn
    kw = {**PRESS, "depth": 3e-4}
    fd = (press(solver=solver, kn=kn + eps, **kw).force
          - press(solver=solver, kn=kn - eps, **kw).force) / (2 * eps)
    assert pressed.grad["kn"] == pytest.approx(fd, rel=1e-3)


# ----- explicit multi-step rollouts -------------------------------------------------------
T, SEG = 60, 20


@pytest.fixture(scope="module", params=[1e-6, 0.0], ids=["rayleigh-beta", "hand-adjoint"])
def rollout_sim(request):
    ensure_init()
    from tacsuite.sim.explicit import ExplicitGel
    from tacsuite.sim.indenters import Sphere
    mesh = structured_box((0.006, 0.006, 0.003), (4, 4, 2))
    ind = Sphere(4e-3, n_poses=T + 1, dtype=ti.f64, needs_grad=True)
    gel = ExplicitGel(mesh, 5e4, 0.35, 1000.0, dt=1e-5, indenter=ind, horizon=T, segment=SEG,
                      alpha=20.0, beta=request.param, kn=2e9, kd=1e4, kt=1e9, mu=0.4, dtype=ti.f64,
                      requires_grad=True)
    s = np.linspace(0, 1, T + 1)[:, None]
    top = 0.003
    # Down by 0.3 mm, then sideways by 0.2 mm while holding the depth.
    poses = np.hstack([0.2e-3 * np.clip(2 * s - 1, 0, 1), 0 * s,
                       top + 4e-3 - 0.3e-3 * np.clip(3 * s, 0, 1)])
    sensor = np.hstack([0 * s, 0.05e-3 * s, 0 * s])
    return gel, poses, sensor


def _loss(gel, out, w_x, w_f):
    x, _ = out["x"][T], out["v"][T]
    return float(np.sum(w_x * x) + np.sum(w_f * out["indenter_force"]))


def test_rollout_gradients_match_central_differences(rollout_sim):
    gel, poses, sensor = rollout_sim
    rng = np.random.default_rng(0)
    w_x = rng.normal(size=(gel.n, 3))
    w_f = rng.normal(size=(T, 3))
    x0 = gel.mesh.points.copy()
    v0 = np.zeros_like(x0)
    v0[:, 2] = 1e-3

    def run(params=None, poses_=poses, sensor_=sensor, x0_=x0, v0_=v0):
        gel.set_params(**(params or {}))
        gel.set_actions(sensor=sensor_, indenter=poses_)
        gel.reset(x0_, v0_)
        out = gel.rollout(T, record=[T])
        return out, _loss(gel, out, w_x, w_f)

    base_vals = dict(gel.values)
    out, L0 = run()
    f = out["indenter_force"]
    assert np.abs(f[:, 2]).max() > 0 and np.abs(f[:, 0]).max() > 0   # contact with friction
    g = gel.backward(dx={T: w_x}, dforce=w_f)
    checks = []
    for name in ("E", "nu", "density", "alpha", "beta", "kn", "kd", "kt", "mu"):
        if base_vals[name] == 0:
            continue
        eps = 1e-6 * base_vals[name]
        Lp = run({name: base_vals[name] + eps})[1]
        Lm = run({name: base_vals[name] - eps})[1]
        run({name: base_vals[name]})
        checks.append((name, g[name], (Lp - Lm) / (2 * eps)))
    for label, key, arr, idx in (("indenter z at step 20", "indenter", poses, (20, 2)),
                                 ("indenter x at step 50", "indenter", poses, (50, 0)),
                                 ("sensor y at step 30", "sensor", sensor, (30, 1))):
        eps = 1e-9
        a_p, a_m = arr.copy(), arr.copy()
        a_p[idx] += eps
        a_m[idx] -= eps
        kw_p = {"poses_": a_p} if key == "indenter" else {"sensor_": a_p}
        kw_m = {"poses_": a_m} if key == "indenter" else {"sensor_": a_m}
        checks.append((label, g[key][idx], (run(**kw_p)[1] - run(**kw_m)[1]) / (2 * eps)))
    top = np.flatnonzero(gel.mesh.points[:, 2] > 0.003 - 1e-9)[4]
    for label, key, arr, kw in (("x0", "x0", x0, "x0_"), ("v0", "v0", v0, "v0_")):
        eps = 1e-9 if key == "x0" else 1e-6
        a_p, a_m = arr.copy(), arr.copy()
        a_p[top, 2] += eps
        a_m[top, 2] -= eps
        checks.append((label, g[key][top, 2],
                       (run(**{kw: a_p})[1] - run(**{kw: a_m})[1]) / (2 * eps)))
    bad = [(n, a, b) for n, a, b in checks if not abs(a - b) <= 1e-3 * abs(b) + 1e-12 * abs(L0)]
    assert not bad, [f"{n}: {a:.6e} vs FD {b:.6e}" for n, a, b in bad]
    assert all(abs(b) > 0 for _, _, b in checks), [n for n, _, b in checks if b == 0]
