"""Newton on deep single-step presses with a stiff penalty (kn = 100 E / h).

The exact contact tangent kn A (n n^T + phi dn/dx) is indefinite while nodes penetrate a
convex indenter deeply; the solver must then fall back to a descent direction.
"""

import pytest

from tacsuite.sim.backend import ensure_init, import_taichi

ti = import_taichi()
R, E, NU = 5e-3, 1e5, 0.3


def _forces(mesh, h, depth, kn_factors):
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.statics import QuasiStaticGel
    ind = Sphere(R, dtype=ti.f64)
    gel = QuasiStaticGel(mesh, E, NU, E / h, ind, dtype=ti.f64, symmetry_planes=(0, 1))
    H = float(mesh.points[:, 2].max())
    ind.set_pose([0.0, 0.0, H + R - depth])
    out = []
    for f in kn_factors:
        gel.set_contact(f * E / h)
        gel.reset()                                   # one step from the undeformed pad
        info = gel.solve()
        assert info["residual"] < 1e-6
        out.append(gel.readout()["force"])
    return out


def test_stiff_penalty_converges_from_the_undeformed_pad():
    ensure_init()
    from tacsuite.sim.press import graded_quarter_pad
    h = 4e-4
    mesh = graded_quarter_pad((0.02, 0.02, 0.005), h, 1.5e-3)
    stiff, soft = _forces(mesh, h, 1e-3, (100.0, 30.0))
    # A stiffer penalty penetrates less, so it pushes back slightly harder.
    assert soft < stiff < 1.05 * soft


@pytest.mark.slow
def test_gmsh_quarter_pad_converges_with_the_default_contact_stiffness():
    pytest.importorskip("gmsh")
    ensure_init()
    from tacsuite.sim.meshing import box_pad
    h = 4e-4
    mesh = box_pad(quarter=True, h_contact=h)
    stiff, soft = _forces(mesh, h, 1e-3, (100.0, 30.0))
    assert soft < stiff < 1.05 * soft
