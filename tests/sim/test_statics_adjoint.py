"""Quasi-static adjoints: any loss of the displacement, through stick/slip friction (slow:
about 40 s each on 2 cores; the refusals of bad adjoint solves are in test_statics_press_cli).

Central finite differences in float64 on a small press in one load step (the friction
adjoint holds the history of earlier load steps fixed, so one step makes it exact).
"""

import numpy as np
import pytest

from tacsuite.sim.backend import import_taichi

ti = import_taichi()
PRESS = dict(indenter="sphere", radius=5e-3, E=1e5, nu=0.3, depth=2e-4,
             pad=(0.008, 0.008, 0.004), mesh_size=5e-4, steps=1)
MU = 0.1                   # partial slip: sticking and slipping nodes both carry friction
RNG = np.random.default_rng(3)


def _loss_weights(n):
    return RNG.normal(size=(n, 3))


KN = 2e10                  # explicit kn and kt: each gradient is by one parameter alone


@pytest.fixture(scope="module")
def frictional():
    from tacsuite.sim.press import press
    first = press(friction=MU, kn=KN, kt=KN, **PRESS)   # builds and compiles the solver
    solver = first.info["solver"]
    weights = _loss_weights(solver.n)

    def loss(u):                                        # a displacement loss, in um
        return float(np.sum(weights * u)) * 1e6, weights * 1e6

    res = press(friction=MU, kn=KN, kt=KN, solver=solver, loss=loss,
                grad=("E", "nu", "kn", "friction", "depth"), **PRESS)
    return res, solver, loss


def _check(frictional, names):
    from tacsuite.sim.press import press
    res, solver, loss = frictional
    info = res.info["friction"]
    assert info["slip_nodes"] > 0 and info["stick_nodes"] > 0
    base = {**PRESS, "friction": MU, "kn": KN}
    bad = []
    for name, rel in names:
        eps = rel * base[name]
        runs = [press(solver=solver, loss=loss, kt=KN, **{**base, name: base[name] + s * eps})
                for s in (1, -1)]
        dF = (runs[0].force - runs[1].force) / (2 * eps)
        dL = (runs[0].loss - runs[1].loss) / (2 * eps)
        for label, got, fd in ((f"dF/d{name}", res.grad[name], dF),
                               (f"dL/d{name}", res.loss_grad[name], dL)):
            assert abs(fd) > 0, label
            if not abs(got - fd) <= 1e-3 * abs(fd):
                bad.append(f"{label}: adjoint {got:.6e} vs FD {fd:.6e}")
    assert not bad, bad


@pytest.mark.slow
def test_gradient_by_the_friction_coefficient_matches_central_differences(frictional):
    _check(frictional, [("friction", 1e-3)])


@pytest.mark.slow
def test_gradients_by_material_contact_and_depth_with_friction_match_central_differences(
        frictional):
    _check(frictional, [("kn", 1e-4), ("E", 1e-4), ("nu", 1e-4), ("depth", 1e-4)])
