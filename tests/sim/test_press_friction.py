"""Quasi-static press with Coulomb friction: stick/slip return mapping on the press solver."""

import numpy as np
import pytest

R, DEPTH, E = 5e-3, 2e-4, 1e5
PAD, H_MESH, STEPS = (0.008, 0.008, 0.004), 5e-4, 2


def _press(nu, friction=0.0, solver=None, **kw):
    from tacsuite.sim.press import press
    return press("sphere", R, DEPTH, E=E, nu=nu, pad=PAD, mesh_size=H_MESH, steps=STEPS,
                 friction=friction, solver=solver, **kw)


@pytest.fixture(scope="module")
def runs():
    """Presses sharing one solver built with friction (one kernel compilation)."""
    first = _press(0.3, 1.0)
    solver = first.info["solver"]
    out = {(0.3, 1.0): first}
    for nu, mu in ((0.3, 0.0), (0.49, 0.0), (0.49, 1.0), (0.3, 0.1), (0.3, 1e-4)):
        out[nu, mu] = _press(nu, mu, solver=solver)
        if mu == 0.1:
            out["readout"] = solver.friction_readout()
    return out


def test_zero_friction_is_the_frictionless_press(runs):
    from tacsuite.sim.statics import QuasiStaticGel
    plain = _press(0.3, 0.0)
    assert type(plain.info["solver"]) is QuasiStaticGel
    # Parallel atomic sums reorder floats: the same press agrees to rounding, not bitwise.
    np.testing.assert_allclose(plain.forces, runs[0.3, 0.0].forces, rtol=1e-9, atol=0)
    # A vanishing coefficient goes through the stick/slip solver and tends to the same.
    tiny = runs[0.3, 1e-4]
    assert tiny.force == pytest.approx(plain.force, rel=1e-4)
    assert abs(tiny.force - plain.force) > 1e-9 * abs(plain.force)


def test_sticking_contact_raises_the_force_for_compressible_gels_only(runs):
    # No slip stops the surface under the sphere from drawing inwards, which for nu < 0.5
    # stiffens the contact by a few per cent; an incompressible gel does not draw in.
    gain = {nu: runs[nu, 1.0].force / runs[nu, 0.0].force - 1 for nu in (0.3, 0.49)}
    assert 0.01 < gain[0.3] < 0.05, gain
    # (1 - 2 nu), the drive of the inward draw, is 20x smaller at 0.49; what is left is the
    # coarse mesh (6 nodes in contact) and the slope of the sphere in the tangent plane.
    assert abs(gain[0.49]) < 0.15 * gain[0.3], gain
    assert runs[0.3, 1.0].info["friction"]["slip_nodes"] == 0        # all sticking at mu = 1


def test_partial_slip_respects_the_coulomb_cap_node_by_node(runs):
    mu = 0.1
    res, fr = runs[0.3, mu], runs["readout"]
    fn, ft = fr["normal"], np.linalg.norm(fr["tangential"], axis=1)
    touching = fn > 0
    assert np.all(ft <= mu * fn * (1 + 1e-6) + 1e-15)
    assert res.info["friction"]["max_cap_ratio"] <= 1 + 1e-6
    slip = fr["state"] == 2
    assert slip.any() and (fr["state"] == 1).any()
    # Slipping nodes carry exactly the cap; nodes off the indenter carry nothing.
    np.testing.assert_allclose(ft[slip & touching], mu * fn[slip & touching], rtol=1e-3)
    assert np.all(ft[~touching] == 0)
    # On the gel, friction points outwards (it resists the inward draw of the surface);
    # mirrored into the other quadrants the tangential forces sum to zero.
    assert np.all(np.array(res.info["friction"]["tangential_sum_quarter"][:2]) > 0)
    assert runs[0.3, 0.0].force < res.force < runs[0.3, 1.0].force


def test_friction_rejects_bad_coefficients_and_a_gradient_by_zero_friction():
    with pytest.raises(ValueError, match="friction"):
        _press(0.3, -0.1)
    with pytest.raises(ValueError, match="needs friction > 0"):
        _press(0.3, 0.0, grad=("friction",))


def _write_icosphere(path, radius_mm):
    from tacsuite.sim.sdf_grid import icosphere
    verts, tris = icosphere(radius_mm, 4)
    lines = [f"v {x:.17g} {y:.17g} {z:.17g}" for x, y, z in verts]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in tris]
    path.write_text("\n".join(lines) + "\n")


def test_cli_mesh_indenter_matches_the_analytic_sphere_and_friction_option(
        runs, tmp_path, capsys):
    import json

    from tacsuite.cli import main
    obj = tmp_path / "ball.obj"
    _write_icosphere(obj, R * 1e3)
    common = ["--depth", str(DEPTH), "--pad", ",".join(map(str, PAD)), "--mesh-size",
              str(H_MESH), "--steps", str(STEPS), "--nu", "0.3", "--json"]
    assert main(["sim", "press", "--indenter", "mesh", "--mesh-file", str(obj),
                 "--mesh-scale", "0.001", *common]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["force"] == pytest.approx(runs[0.3, 0.0].force, rel=0.05)
    assert main(["sim", "press", "--friction", "0.1", *common]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["force"] == pytest.approx(runs[0.3, 0.1].force, rel=1e-9)
    assert out["friction"]["mu"] == 0.1 and out["friction"]["max_cap_ratio"] <= 1 + 1e-6


@pytest.mark.parametrize("argv,match", [
    (["--indenter", "mesh"], "mesh-file"),
    (["--indenter", "mesh", "--mesh-file", "/nonexistent/ball.obj"], "ball.obj"),
    (["--grad", "friction"], "friction"),
    (["--friction", "-1"], "friction"),
])
def test_cli_press_rejects_bad_friction_and_mesh_input(argv, match, capsys):
    from tacsuite.cli import main
    assert main(["sim", "press", *argv]) == 2
    assert match in capsys.readouterr().err


def test_mesh_indenter_must_be_mirror_symmetric(tmp_path):
    from tacsuite.sim.press import press
    from tacsuite.sim.sdf_grid import icosphere
    verts, tris = icosphere(5.0, 2)
    verts[:, 0] += 0.7                    # off-centre: the quarter model would be wrong
    obj = tmp_path / "off.obj"
    obj.write_text("\n".join([f"v {x:.17g} {y:.17g} {z:.17g}" for x, y, z in verts]
                             + [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in tris]) + "\n")
    with pytest.raises(ValueError, match="mirror-symmetric"):
        press("mesh", R, DEPTH, pad=PAD, mesh_file=obj, mesh_scale=1e-3)
