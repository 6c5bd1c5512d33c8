"""The quasi-static identification rig: a twist transmits torque and curls the markers,
the loss's gradient through every frictional load step matches central differences, and
a twist identifies the friction coefficient."""

import numpy as np
import pytest

from tacsuite.sim import sysid

# A coarse static rig (0.75 mm nodes, 4 load steps: 2 pressing, 2 twisting or sliding).
CONFIG = {"solver": "static", "cells": [8, 8, 2], "steps": 4}
TRUTH = {"E": 1e5, "nu": 0.35, "mu": 0.5}


@pytest.fixture(scope="module")
def rig():
    return sysid.Rig(CONFIG)


@pytest.fixture(scope="module")
def twist(rig):
    return sysid.synth(TRUTH, "twist", 0.0, 0, rig=rig)


def _curl(markers: np.ndarray, shape) -> float:
    """Sum over the marker grid of (r x u)_z, r from the grid centre (marker units)."""
    ny, nx = shape[1], shape[0]
    u = markers.reshape(ny, nx, 2)
    ys, xs = np.mgrid[0:ny, 0:nx]
    xs, ys = xs - (nx - 1) / 2, ys - (ny - 1) / 2
    return float(np.sum(xs * u[..., 1] - ys * u[..., 0]))


def test_twist_transmits_torque_and_curls_the_markers(rig, twist):
    from tacsuite.theory import contact
    w = twist["wrench"]
    fz = -w[-1, 2]
    assert fz > 0
    # near full slip at the last twist step: Lubkin's torque for a Hertzian pressure, to
    # the coarse mesh's resolution of the contact radius; the sign follows the twist's
    cfg = rig.cfg
    a = contact.hertz_radius(cfg["depth"], cfg["radius"])
    ratio = w[-1, 5] / contact.lubkin_full_slip_torque(fz, a, TRUTH["mu"])
    assert 0.6 < ratio < 1.3, ratio
    assert np.all(np.abs(w[-1, :2]) < 1e-3 * fz)      # no net shear under a centred twist
    m = twist["markers"]
    curl = _curl(m[-1], rig.cfg["markers"])
    assert curl > 0 and abs(_curl(m[1], rig.cfg["markers"])) < 1e-6 * curl
    assert np.abs(m[-1].mean(0)).max() < 1e-6 * np.abs(m[-1]).max()


def test_loss_gradient_through_every_load_step_matches_central_differences(rig, twist):
    obs = dict(twist, markers=twist["markers"] * 1.02)
    obj = sysid.Objective(obs, ["E", "mu", "kt"], fixed={"nu": 0.3}, rig=rig)
    z = obj.to_z([1.3e5, 0.6, 3e9])
    _, g = obj.value_and_grad(z)
    for i, name in enumerate(obj.names):
        zp, zm = z.copy(), z.copy()
        zp[i] += 1e-4
        zm[i] -= 1e-4
        fd = (obj.value(zp) - obj.value(zm)) / 2e-4
        # the adjoint holds the anchors of nodes first touching within a step fixed
        assert abs(g[i] - fd) < 0.03 * abs(fd), (name, g[i], fd)


def test_twist_identifies_the_friction_coefficient(rig):
    obs = sysid.synth(TRUTH, "twist", 0.01, 1, rig=rig)
    res = sysid.fit(obs, ["mu"], {"mu": 1.0, "E": TRUTH["E"], "nu": TRUTH["nu"]}, budget=10,
                    rig=rig)
    assert abs(res["fitted"]["mu"] / TRUTH["mu"] - 1) < 0.03, res["fitted"]
    se = res["stderr"]["mu"]
    assert 0 < se and abs(res["fitted"]["mu"] - TRUTH["mu"]) < 3 * se


def test_static_rig_refuses_damping_and_other_rigs_observations(rig, twist):
    with pytest.raises(ValueError, match="damping does not enter"):
        sysid.Objective(twist, ["E", "damping"], rig=rig)
    with pytest.raises(ValueError, match="another rig"):
        sysid.Objective(dict(twist, config={"solver": "static"}), ["E"], rig=rig)
    with pytest.raises(ValueError, match="solver must be one of"):
        sysid.Rig({"solver": "implicit"})
    with pytest.raises(ValueError, match="per-step dL_dx"):
        rig.static.gradients(dL_dx=np.zeros((2, rig.gel.n, 3)))


def test_a_solve_that_does_not_converge_is_ranked_last_not_fatal(rig, twist, monkeypatch):
    from tacsuite.sim.statics import NotConverged

    def fail(*a, **k):
        raise NotConverged("Newton did not converge in 100 iterations")

    obj = sysid.Objective(twist, ["mu"], rig=rig)
    monkeypatch.setattr(rig.static, "solve", fail)
    assert obj.value(obj.to_z([0.6])) == float("inf")
    loss, g = obj.value_and_grad(obj.to_z([0.6]))
    assert loss == float("inf") and np.all(g == 0) and obj.failed == 2
    with pytest.raises(ValueError, match="no evaluation of the random fit converged"):
        sysid.fit(twist, ["mu"], {"mu": 0.6}, method="random", budget=4, rig=rig)


def test_repeated_read_outs_make_no_new_taichi_fields(rig, twist):
    # Every field made after a launch is a tree of its own, and a process crashes past
    # 512 of them: a long identification reads the distances a thousand times.
    gel = rig.static.gel
    phi = gel.node_distances()
    for _ in range(600):
        again = gel.node_distances()
    assert np.array_equal(phi, again)
