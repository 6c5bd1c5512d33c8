"""`tacsuite sim press` end to end, and the indenter SDF interface against finite differences."""

import json

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi

ti = import_taichi()


def test_cli_press_json_and_image(tmp_path, capsys):
    from tacsuite.cli import main
    png = tmp_path / "pad.png"
    rc = main(["sim", "press", "--indenter", "sphere", "--radius", "0.005", "--depth", "0.0003",
               "--E", "1e5", "--nu", "0.3", "--pad", "0.01,0.01,0.005", "--mesh-size", "0.0005",
               "--steps", "2", "--grad", "E,depth", "--json", "--image", str(png)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"force", "contact_radius", "grad"}
    assert out["force"] > 0 and 0 < out["contact_radius"] < 0.005
    # Everything scales with E (kn follows E), so dF/dE = F/E exactly.
    assert out["grad"]["E"] == pytest.approx(out["force"] / 1e5, rel=1e-6)
    assert out["grad"]["depth"] > 0
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize("argv,match", [
    (["--indenter", "cone"], "indenter"),
    (["--pad", "0.01,0.01"], "pad"),
    (["--grad", "E,colour"], "colour"),
    (["--depth", "-1e-4"], "depth"),
])
def test_cli_press_rejects_bad_input(argv, match, capsys):
    from tacsuite.cli import main
    try:
        rc = main(["sim", "press", *argv])
    except SystemExit as exc:          # option parser errors
        rc = exc.code
    assert rc == 2
    assert match in capsys.readouterr().err


@ti.data_oriented
class _Probe:
    def __init__(self, ind, pts):
        self.ind = ind
        self.p = ti.Vector.field(3, ti.f64, shape=len(pts))
        self.p.from_numpy(pts)
        self.phi = ti.field(ti.f64, shape=len(pts))
        self.n = ti.Vector.field(3, ti.f64, shape=len(pts))
        self.h = ti.Matrix.field(3, 3, ti.f64, shape=len(pts))

    @ti.kernel
    def run(self):
        for i in self.p:
            phi, n = self.ind.sdf(self.p[i], 0)
            self.phi[i] = phi
            self.n[i] = n
            self.h[i] = self.ind.sdf_hessian(self.p[i], 0)


@pytest.mark.parametrize("kind", ["sphere", "cylinder", "box", "capsule"])
def test_indenter_normal_and_hessian_are_derivatives_of_the_distance(kind):
    ensure_init()
    from tacsuite.sim.indenters import make_indenter
    ind = make_indenter(kind, 2e-3, dtype=ti.f64)
    ind.set_pose([1e-3, -2e-3, 5e-3])
    rng = np.random.default_rng(0)
    pts = np.array([1e-3, -2e-3, 5e-3]) + rng.uniform(-4e-3, 4e-3, size=(200, 3))
    eps = 1e-7
    offsets = [np.zeros(3)] + [s * eps * e for e in np.eye(3) for s in (1, -1)]
    probes = [_Probe(ind, pts + o) for o in offsets]
    for pr in probes:
        pr.run()
    phi0, n0, h0 = probes[0].phi.to_numpy(), probes[0].n.to_numpy(), probes[0].h.to_numpy()
    grad_fd = np.stack([(probes[1 + 2 * k].phi.to_numpy() - probes[2 + 2 * k].phi.to_numpy())
                        / (2 * eps) for k in range(3)], axis=1)
    hess_fd = np.stack([(probes[1 + 2 * k].n.to_numpy() - probes[2 + 2 * k].n.to_numpy())
                        / (2 * eps) for k in range(3)], axis=2)
    np.testing.assert_allclose(np.linalg.norm(n0, axis=1), 1.0, atol=1e-12)
    # Skip the few points within eps of a kink of the distance field (medial surfaces).
    smooth = np.all(np.abs(hess_fd) < 1e5, axis=(1, 2)) & (np.abs(phi0) > 1e-5)
    assert smooth.mean() > 0.8
    np.testing.assert_allclose(grad_fd[smooth], n0[smooth], atol=1e-6)
    np.testing.assert_allclose(hess_fd[smooth], h0[smooth], atol=1.0)   # |hessian| ~ 1/r = 500
    inside = phi0 < 0
    assert inside.any() and (~inside).any()


@pytest.mark.slow  # ~50 s; the CLI mesh indenter test covers the SDF path
def test_mesh_sdf_indenter_plugs_into_the_press_solver():
    """A triangulated sphere through the SDF-grid indenter presses like the analytic one."""
    ensure_init()
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.press import graded_quarter_pad
    from tacsuite.sim.sdf_grid import MeshSDFIndenter, icosphere
    from tacsuite.sim.statics import QuasiStaticGel
    R, depth, H = 5e-3, 3e-4, 0.005
    mesh = graded_quarter_pad((0.01, 0.01, H), 5e-4, 1.5e-3)
    verts, tris = icosphere(R, 4)
    indenters = {"analytic": Sphere(R, dtype=ti.f64),
                 "mesh": MeshSDFIndenter.from_mesh(verts, tris, resolution=64, dtype=ti.f64)}
    forces = {}
    for name, ind in indenters.items():
        gel = QuasiStaticGel(mesh, 1e5, 0.3, 2e10, ind, dtype=ti.f64, symmetry_planes=(0, 1))
        ind.set_pose([0.0, 0.0, H + R - depth])
        gel.project_contact()
        gel.solve()
        forces[name] = gel.readout()["force"]
    assert forces["analytic"] > 0
    assert forces["mesh"] == pytest.approx(forces["analytic"], rel=0.05)
