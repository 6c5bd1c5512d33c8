"""Adjoint gradients of the quasi-static press vs central FD, float64 (explicit rollouts:
test_world_gradients.py)."""

import pytest

from tacsuite.sim.backend import import_taichi

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
