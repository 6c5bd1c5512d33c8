import struct

import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box

ensure_init()
ti = import_taichi()
from tacsuite.sim.sdf_grid import (  # noqa: E402
    MeshSDFIndenter,
    SDFGrid,
    icosphere,
    load_triangle_mesh,
    mesh_signed_distance,
)
from tacsuite.sim.spatial_hash import closest_points_bruteforce  # noqa: E402

R = 0.005
H = R / 10
CENTRE = np.array([0.001, -0.002, 0.004])


MAXN = 4096
_buffers: dict = {}


def _fields():
    """Evaluation buffers, made in the runtime the test runs in (not at import)."""
    if not _buffers:
        ensure_init()
        _buffers.update(pts=ti.Vector.field(3, ti.f64, shape=MAXN),
                        phi=ti.field(ti.f64, shape=MAXN),
                        nrm=ti.Vector.field(3, ti.f64, shape=MAXN),
                        hes=ti.Matrix.field(3, 3, ti.f64, shape=MAXN))
    return _buffers


@ti.kernel
def _eval_kernel(ind: ti.template(), t: ti.i32, n: ti.i32, pts: ti.template(),
                 phi: ti.template(), nrm: ti.template(), hes: ti.template()):
    for i in range(n):
        a, b = ind.sdf(pts[i], t)
        phi[i], nrm[i], hes[i] = a, b, ind.sdf_hessian(pts[i], t)


def _eval(ind, pts, t=0):
    f = _fields()
    n = len(pts)
    buf = np.zeros((MAXN, 3))
    buf[:n] = pts
    f["pts"].from_numpy(buf)
    _eval_kernel(ind, t, n, f["pts"], f["phi"], f["nrm"], f["hes"])
    return f["phi"].to_numpy()[:n], f["nrm"].to_numpy()[:n], f["hes"].to_numpy()[:n]


@pytest.fixture(scope="module")
def sphere():
    v, t = icosphere(R, 3)
    ind = MeshSDFIndenter.from_mesh(v, t, spacing=H, dtype=ti.f64)
    ind.set_pose(CENTRE)
    return v, t, ind


def _shell_points(n, lo, hi, seed):
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return d * rng.uniform(lo, hi, (n, 1))


def test_grid_nodes_hold_the_exact_mesh_distance(sphere):
    v, t, ind = sphere
    g = ind.grid
    idx = np.random.default_rng(0).integers(0, np.array(g.shape), size=(300, 3))
    nodes = g.origin + g.spacing * idx
    ref = closest_points_bruteforce(nodes, v, t)["dist"]
    np.testing.assert_allclose(g.values[tuple(idx.T)], ref, atol=1e-12)
    inside = np.linalg.norm(nodes, axis=1) < R * 0.95
    assert np.all((ref < 0) == inside | (np.abs(np.linalg.norm(nodes, axis=1) - R) < 0.05 * R)
                  ) or np.all(ref[inside] < 0)


def test_sphere_sdf_matches_analytic_within_grid_error(sphere):
    v, t, ind = sphere
    # Largest gap between the facets and the sphere (vertices lie on it).
    c = v[t]
    n = np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    sagitta = R - np.einsum("ij,ij->i", n, c[:, 0]).min()
    local = _shell_points(3000, 0.8 * R, 1.2 * R, 1)
    phi, normal, _ = _eval(ind, local + CENTRE)
    r = np.linalg.norm(local, axis=1)
    # Trilinear interpolation error of a function with Hessian norm <= 1/(0.8 R).
    tol = sagitta + 3 * H**2 / (8 * 0.8 * R)
    err = np.abs(phi - (r - R))
    assert err.max() < tol, (err.max(), tol)
    assert err.max() > 0.05 * tol  # the bound is not vacuous
    # Gradient = outward normal: radial up to the facets' tilt plus O(h/R) from the grid.
    facet_tilt = np.arccos(np.einsum("ij,ikj->ik", n, c / R).min())
    length = np.linalg.norm(normal, axis=1)
    cosang = np.einsum("ij,ij->i", normal, local / r[:, None]) / length
    angle = np.arccos(np.clip(cosang, -1, 1))
    assert angle.max() < facet_tilt + H / R
    assert angle.mean() < 0.5 * facet_tilt
    # The default normal is grad phi itself: unit length up to the interpolation error.
    assert np.abs(length - 1).max() < 0.1 and np.abs(length - 1).mean() < 0.02
    # Interpolated phi equals the exact mesh distance up to the interpolation error: the
    # smooth part plus the kinks (gradient jumps of up to the facet tilt) inside the mesh.
    exact = mesh_signed_distance(local, v, t)
    assert np.abs(phi - exact).max() < 3 * H**2 / (8 * 0.8 * R) + H * facet_tilt / 4


@pytest.mark.parametrize("unit", [False, True])
def test_hessian_is_the_derivative_of_the_normal(sphere, unit):
    _, _, base = sphere
    g = base.grid
    ind = MeshSDFIndenter(g, unit_normal=unit)
    ind.set_pose(CENTRE)
    rng = np.random.default_rng(2)
    # Cell interiors near the surface, away from cell faces where the interpolant kinks;
    # plus points outside the grid box (beyond the faces, edges and corners).
    cells = np.floor((_shell_points(40, 0.9 * R, 1.1 * R, 3) - g.origin) / g.spacing)
    local = g.origin + g.spacing * (cells + rng.uniform(0.25, 0.75, cells.shape))
    outside = np.array([[2, 0.13, 0.27], [2.1, 1.9, 0.11], [-2.2, 2.3, 3.1]]) * R
    x = np.concatenate([local, outside]) + CENTRE
    eps = 1e-4 * g.spacing
    _, n0, hess = _eval(ind, x)
    fd = np.zeros_like(hess)
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        fd[:, :, k] = (_eval(ind, x + e)[1] - _eval(ind, x - e)[1]) / (2 * eps)
    np.testing.assert_allclose(hess, fd, atol=1e-6 * np.abs(fd).max())
    assert np.abs(fd).max() > 10  # curvature ~ 1/R is really there
    if unit:
        np.testing.assert_allclose(np.linalg.norm(n0, axis=1), 1.0, atol=1e-12)
    else:  # n is the gradient of phi: compare with central differences of phi
        gphi = np.stack([(_eval(ind, x + e)[0] - _eval(ind, x - e)[0]) / (2 * eps)
                         for e in np.eye(3) * eps], 1)
        np.testing.assert_allclose(n0, gphi, atol=1e-7)


def test_pose_translation_rotation_and_outside_the_grid():
    box = structured_box((0.004, 0.002, 0.001), (2, 1, 1))
    verts = box.points - box.points.mean(0)
    c, s = np.cos(0.3), np.sin(0.3)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    ind = MeshSDFIndenter.from_mesh(verts, box.surface_tris, spacing=1e-4, rotation=rot,
                                    n_poses=2, dtype=ti.f64)
    ind.set_poses(np.array([[0, 0, 0], [0.01, 0.02, 0.03]]))
    local = np.array([[0.0, 0.0, 0.0008], [0.0025, 0.0003, 0.0], [0.001, 0.0, 0.0]])
    world = local @ rot.T + [0.01, 0.02, 0.03]
    phi, n, _ = _eval(ind, world, t=1)
    # Box half extents (2, 1, 0.5) mm: distances 0.3, 0.5 and -0.5 mm.
    np.testing.assert_allclose(phi, [3e-4, 5e-4, -5e-4], atol=1e-9)
    np.testing.assert_allclose(n[0], [0, 0, 1], atol=1e-9)
    np.testing.assert_allclose(n[1], rot @ [1, 0, 0], atol=1e-9)
    far = np.array([[0.05, 0.0, 0.0], [0.08, 0.0, 0.0]])
    phi_far, n_far, _ = _eval(ind, far @ rot.T + [0.01, 0.02, 0.03], t=1)
    assert phi_far[1] - phi_far[0] == pytest.approx(0.03, rel=1e-9)
    np.testing.assert_allclose(n_far, [rot @ [1, 0, 0]] * 2, atol=1e-9)
    assert ind.poses()[1].tolist() == [0.01, 0.02, 0.03]
    with pytest.raises(ValueError, match="proper 3x3 rotation"):
        MeshSDFIndenter(ind.grid, rotation=-np.eye(3))
    with pytest.raises(TypeError, match="from_mesh"):
        MeshSDFIndenter(verts)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        ind.set_poses(np.zeros((3, 3)))


def test_autodiff_through_the_pose(sphere):
    _, _, base = sphere
    ind = MeshSDFIndenter(base.grid, needs_grad=True)
    ind.set_pose(CENTRE)
    pts = _shell_points(50, 0.9 * R, 1.1 * R, 4) + CENTRE
    pf = ti.Vector.field(3, ti.f64, shape=len(pts))
    pf.from_numpy(pts)
    loss = ti.field(ti.f64, shape=(), needs_grad=True)

    @ti.kernel
    def total():
        for i in pf:
            phi, _ = ind.sdf(pf[i], 0)
            loss[None] += phi

    with ti.ad.Tape(loss):
        total()
    _, n, _ = _eval(ind, pts)
    np.testing.assert_allclose(ind.pos.grad.to_numpy()[0], -n.sum(0), rtol=1e-9)


def _write_obj(path, v, faces):
    lines = [f"v {float(x)!r} {float(y)!r} {float(z)!r}" for x, y, z in v]
    lines += ["f " + " ".join(f"{i + 1}/{i + 1}/1" for i in f) for f in faces]
    path.write_text("# test\n" + "\n".join(lines) + "\n")


def _volume(v, t):
    c = v[t]
    return np.einsum("ij,ij->i", np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]),
                     c.mean(1)).sum() / 6


def test_load_obj_stl_and_orientation(tmp_path):
    cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4],
             [1, 5, 7, 3]]  # outward: x=0, x=1, y=0, y=1, z=0, z=1
    _write_obj(tmp_path / "cube.obj", cube, quads)
    v, t = load_triangle_mesh(tmp_path / "cube.obj", scale=0.01)
    assert t.shape == (12, 3) and _volume(v, t) == pytest.approx(1e-6)
    _write_obj(tmp_path / "inward.obj", cube, [q[::-1] for q in quads])
    v2, t2 = load_triangle_mesh(tmp_path / "inward.obj")
    assert _volume(v2, t2) == pytest.approx(1.0)  # flipped to face outward
    sv, st = icosphere(2.0, 1)
    def facet(f):
        corners = "".join(f"  vertex {float(x)!r} {float(y)!r} {float(z)!r}\n"
                          for x, y, z in sv[f])
        return f"facet normal 0 0 0\n outer loop\n{corners} endloop\nendfacet\n"

    facets = "".join(facet(f) for f in st)
    (tmp_path / "s.stl").write_text(f"solid s\n{facets}endsolid s\n")
    v3, t3 = load_triangle_mesh(tmp_path / "s.stl")
    assert len(v3) == len(sv) and _volume(v3, t3) == pytest.approx(_volume(sv, st))
    rec = b"".join(struct.pack("<12fH", 0, 0, 0, *sv[f].ravel(), 0) for f in st)
    (tmp_path / "b.stl").write_bytes(b"\0" * 80 + struct.pack("<I", len(st)) + rec)
    v4, t4 = load_triangle_mesh(tmp_path / "b.stl")
    assert len(t4) == len(st) and _volume(v4, t4) == pytest.approx(_volume(sv, st), rel=1e-6)


@pytest.mark.parametrize("name, text, msg", [
    ("bad.obj", "v 0 0 0\nv 1 0 x\nf 1 2 3\n", r"bad.obj:2: corrupt OBJ line"),
    ("idx.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", r"idx.obj:4: .*outside 1..3"),
    ("empty.obj", "# nothing\n", "no faces found"),
    ("open.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 1 3 4\n",
     "not closed and consistently oriented"),
    ("junk.stl", "hello", "neither an ASCII STL"),
    ("short.stl", "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 nan 0\n",
     r"short.stl:5: corrupt STL line"),
    ("mesh.ply", "ply\n", "unsupported mesh format"),
])
def test_corrupt_mesh_files_are_clear_errors(tmp_path, name, text, msg):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=msg):
        load_triangle_mesh(tmp_path / name)


def test_missing_file_and_bad_grid():
    with pytest.raises(FileNotFoundError, match="no such mesh file"):
        load_triangle_mesh("/nonexistent/x.obj")
    with pytest.raises(ValueError, match="at least 2 nodes"):
        SDFGrid(np.zeros((1, 3, 3)), (0, 0, 0), 1.0)
    with pytest.raises(ValueError, match="spacing must be positive"):
        SDFGrid(np.zeros((2, 2, 2)), (0, 0, 0), 0.0)
