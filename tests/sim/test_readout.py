"""Tactile read-outs: torch gradients against central differences, the chain through the
world's reverse pass, and the marker field of a press and a slide."""

import numpy as np
import pytest
import torch

from tacsuite.sim.mesh import structured_box
from tacsuite.sim.readout import Camera, GelReadout

SMALL = {}   # the default rig (shares compiled kernels with test_sysid)


def _tiny(kind="pinhole"):
    mesh = structured_box((0.004, 0.004, 0.002), (2, 2, 1))
    ro = GelReadout(mesh, markers=(3, 3), res=(6, 7), camera=Camera(kind, f=300.0))
    g = torch.Generator().manual_seed(0)
    x = (ro.rest(2) + 1e-4 * torch.randn(2, ro.n, 3, generator=g, dtype=torch.float64))
    return ro, x.requires_grad_(True)


@pytest.mark.parametrize("kind", ["pinhole", "fisheye"])
def test_marker_flow_gradient_matches_central_differences(kind):
    ro, x = _tiny(kind)
    assert torch.autograd.gradcheck(lambda x: ro.marker_flow(x), (x,), eps=1e-7, atol=1e-5)


def test_maps_and_wrench_gradients_match_central_differences():
    ro, x = _tiny()
    E = torch.tensor(1e5, dtype=torch.float64, requires_grad=True)
    nu = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: ro.normal_map(ro.height_map(x)), (x,), eps=1e-7,
                                    atol=1e-5)
    assert torch.autograd.gradcheck(lambda x, E, nu: ro.wrench(x, E, nu), (x, E, nu),
                                    eps=1e-7, atol=1e-5, rtol=1e-4)
    assert torch.autograd.gradcheck(lambda x, E, nu: ro.traction_maps(x, E, nu)[1],
                                    (x, E, nu), eps=1e-7, atol=1e-3, rtol=1e-4)
    p, _ = ro.traction_maps(x, E, nu)
    assert torch.autograd.gradcheck(lambda p: ro.contact_mask(p, 10.0), (p.detach()
                                    .requires_grad_(True),), eps=1e-6, atol=1e-5)


def test_fisheye_matches_pinhole_on_the_axis_and_bends_off_it():
    pts = torch.tensor([[0.0, 0.0, 0.003], [1e-4, 0, 0.003], [0.01, 0, 0.0]],
                       dtype=torch.float64)
    a, b = Camera("pinhole", f=300.0).project(pts), Camera("fisheye", f=300.0).project(pts)
    assert torch.allclose(a[:2], b[:2], atol=1e-3)
    assert b[2, 0] < a[2, 0]            # equidistant radius f theta < f tan theta


def test_rest_state_reads_zero():
    ro, _ = _tiny()
    x = ro.rest(1)
    assert torch.abs(ro.marker_flow(x)).max() < 1e-9
    assert torch.abs(ro.height_map(x)).max() < 1e-12
    assert torch.abs(ro.wrench(x, 1e5, 0.3)).max() < 1e-9


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="camera kind"):
        Camera("ortho")
    ro, _ = _tiny()
    with pytest.raises(ValueError, match="node positions"):
        ro.markers(torch.zeros(1, 3, 3))


@pytest.fixture(scope="module")
def rig():
    from tacsuite.sim import sysid
    return sysid.Rig(SMALL)


def _field(rig, motion):
    from tacsuite.sim import sysid
    a = sysid.motion_actions(motion, rig.cfg)
    with torch.no_grad():
        x = rig.states_fn(["E"])(torch.as_tensor(a), torch.tensor(1e5))
    flow = rig.readout.marker_flow(x[-1:])[0].numpy()
    r = rig.readout.marker_rest_xy
    return r / np.linalg.norm(r, axis=1).max(), flow


def test_press_gives_a_radially_symmetric_field_with_zero_net_shear(rig):
    r, flow = _field(rig, "press")
    mag = np.linalg.norm(flow, axis=1)
    assert np.linalg.norm(flow.sum(0)) < 0.05 * mag.sum()
    off = np.linalg.norm(r, axis=1) > 0.3
    radial = (flow[off] * r[off]).sum(1) / (np.linalg.norm(r[off], axis=1) * mag[off])
    assert radial.min() > 0.9                        # every marker moves outwards
    grid = mag.reshape(5, 5)
    assert np.allclose(grid, grid.T, rtol=0.1, atol=0.02 * mag.max())   # x <-> y
    assert np.allclose(grid, grid[::-1, ::-1], rtol=0.1, atol=0.02 * mag.max())


def test_slide_field_points_along_the_slide(rig):
    _, flow = _field(rig, "slide")
    mean = flow.mean(0)
    assert mean[0] > 0 and abs(mean[1]) < 0.2 * mean[0]


def test_marker_and_image_loss_gradients_through_the_world_match_central_differences(rig):
    from tacsuite.sim import optics, sysid
    a = torch.as_tensor(sysid.motion_actions("slide", rig.cfg)[:3])
    fn = rig.states_fn(["E", "mu"])
    target = torch.full((rig.readout.rows, rig.readout.cols, 3), 0.5, dtype=torch.float64)

    def loss(E, mu):
        x = fn(a, E, mu)
        return (rig.readout.marker_flow(x) ** 2).mean() + 1e3 * (
            (optics.render(rig.readout, x[-1:]) - target) ** 2).mean()

    E = torch.tensor(1e5, dtype=torch.float64, requires_grad=True)
    mu = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    loss(E, mu).backward()
    with torch.no_grad():
        fd_E = (loss(E + 100.0, mu) - loss(E - 100.0, mu)) / 200.0
        fd_mu = (loss(E, mu + 1e-3) - loss(E, mu - 1e-3)) / 2e-3
    assert abs(float(E.grad) - float(fd_E)) < 1e-3 * abs(float(fd_E))
    assert abs(float(mu.grad) - float(fd_mu)) < 2e-3 * abs(float(fd_mu)) + 1e-12
