import sys

import numpy as np
import pytest

from tacsuite.sim import meshing
from tacsuite.sim.mesh import (
    TetMesh,
    check_quality,
    load_mesh,
    mesh_quality,
    save_mesh,
    structured_box,
    tet_dihedral_angles,
)

SIZE = (0.02, 0.016, 0.005)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TACSUITE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def pad():
    return meshing.box_pad(SIZE, h=2e-3, h_contact=6e-4, contact_radius=2.5e-3,
                           use_cache=False)


def _divergence_volume(m):
    p, t = m.points, m.surface_tris
    n = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
    return np.einsum("ij,ij->i", n, p[t].mean(1)).sum() / 6


def test_box_pad_volume_orientation_quality(pad):
    vol = np.prod(SIZE)
    assert np.all(pad.volumes() > 0)
    assert pad.volumes().sum() == pytest.approx(vol, rel=1e-10)
    # Outward normals: the divergence theorem gives the volume with the right sign.
    assert _divergence_volume(pad) == pytest.approx(vol, rel=1e-10)
    q = check_quality(pad)
    assert q.min_dihedral_deg > 10 and q.min_shape_quality > 0.2
    assert pad.meta["quality"]["n_tets"] == pad.n_tets
    # Every surface triangle lies on one of the six box faces.
    c = pad.points[pad.surface_tris].mean(1)
    on_face = (np.isclose(np.abs(c[:, 0]), SIZE[0] / 2) | np.isclose(np.abs(c[:, 1]), SIZE[1] / 2)
               | np.isclose(c[:, 2], 0) | np.isclose(c[:, 2], SIZE[2]))
    assert on_face.all()
    assert set(pad.surface_nodes) == set(np.unique(pad.surface_tris))


def test_box_pad_bottom_nodes_cover_the_bottom_face(pad):
    z = pad.points[:, 2]
    assert np.array_equal(np.sort(pad.bottom_nodes), np.flatnonzero(np.abs(z) < 1e-12))
    p, t = pad.points, pad.surface_tris
    bottom = np.all(np.isin(t, pad.bottom_nodes), axis=1)
    n = np.cross(p[t[bottom, 1]] - p[t[bottom, 0]], p[t[bottom, 2]] - p[t[bottom, 0]])
    assert np.all(n[:, 2] < 0)  # facing down, out of the pad
    assert 0.5 * np.linalg.norm(n, axis=1).sum() == pytest.approx(SIZE[0] * SIZE[1], rel=1e-10)


def test_box_pad_is_graded_towards_the_contact_centre(pad):
    t, pts = pad.surface_tris, pad.points
    top = np.all(np.isclose(pts[t, 2], SIZE[2]), axis=1)
    c = pts[t[top]].mean(1)
    edge = np.linalg.norm(pts[t[top, 0]] - pts[t[top, 1]], axis=1)
    r = np.linalg.norm(c[:, :2], axis=1)
    near, far = edge[r < 1.5e-3].mean(), edge[r > 7e-3].mean()
    assert near < 1.0e-3 < 1.5e-3 < far
    assert near == pytest.approx(6e-4, rel=0.35)


def test_quarter_box_pad():
    q = meshing.box_pad(SIZE, h=2e-3, h_contact=6e-4, contact_radius=2.5e-3, quarter=True,
                        use_cache=False)
    assert q.volumes().sum() == pytest.approx(np.prod(SIZE) / 4, rel=1e-10)
    assert q.points[:, 0].min() == 0 and q.points[:, 1].min() == 0
    assert q.points[:, :2].max(0) == pytest.approx([SIZE[0] / 2, SIZE[1] / 2])
    # Finest near the corner x = y = 0 of the top face, where the full pad's centre is.
    t = q.surface_tris
    top = np.all(np.isclose(q.points[t, 2], SIZE[2]), axis=1)
    r = np.linalg.norm(q.points[t[top]].mean(1)[:, :2], axis=1)
    edge = np.linalg.norm(q.points[t[top, 0]] - q.points[t[top, 1]], axis=1)
    assert edge[r < 1.5e-3].mean() < 1e-3 < edge[r > 6e-3].mean()
    check_quality(q)


def test_dome_pad_volume_and_shape():
    R, c, b = 0.01, 0.003, 0.002
    m = meshing.dome_pad(R, c, b, h=1.5e-3, h_contact=6e-4, contact_radius=2e-3,
                         use_cache=False)
    a2 = c * (2 * R - c)
    exact = np.pi * c**2 * (3 * R - c) / 3 + np.pi * a2 * b
    # Flat facets under-fill the curved surfaces by a fraction of the chord error.
    assert m.volumes().sum() == pytest.approx(exact, rel=0.02)
    assert m.volumes().sum() < exact
    assert _divergence_volume(m) == pytest.approx(m.volumes().sum(), rel=1e-10)
    assert m.points[:, 2].max() == pytest.approx(b + c, rel=1e-9)
    assert np.all(np.abs(m.points[m.bottom_nodes, 2]) < 1e-12)
    r_bottom = np.linalg.norm(m.points[m.bottom_nodes, :2], axis=1)
    assert r_bottom.max() == pytest.approx(np.sqrt(a2), rel=1e-6)
    check_quality(m)
    # Graded: surface edges near the apex are finer than those far from it.
    t, p = m.surface_tris, m.points
    edge = np.linalg.norm(p[t[:, 0]] - p[t[:, 1]], axis=1)
    gap = np.linalg.norm(p[t].mean(1) - [0, 0, b + c], axis=1)
    assert edge[gap < 1.5e-3].mean() < 8e-4 < 1.2e-3 < edge[gap > 6e-3].mean()


def test_quality_figures_and_rejection_of_slivers():
    m = structured_box((1.0, 1.0, 1.0), (1, 1, 1))
    q = mesh_quality(m)
    assert q.min_dihedral_deg == pytest.approx(45.0) and q.max_dihedral_deg == pytest.approx(90)
    # A regular tetrahedron has all dihedral angles arccos(1/3) and shape quality 1.
    reg = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float)
    tet = np.array([[0, 1, 2, 3]])
    if np.linalg.det(reg[[1, 2, 3]] - reg[0]) < 0:
        tet = tet[:, [0, 2, 1, 3]]
    rq = mesh_quality(TetMesh(reg, tet))
    assert rq.min_shape_quality == pytest.approx(1.0)
    assert rq.max_aspect_ratio == pytest.approx(1.0)
    assert np.allclose(tet_dihedral_angles(reg, tet), np.degrees(np.arccos(1 / 3)))
    # Flatten the apex towards the base plane: a sliver with tiny dihedral angles.
    flat = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0.3, 0.3, 0.01]], float)
    sliver = TetMesh(flat, np.array([[0, 1, 2, 3]]))
    with pytest.raises(ValueError, match="min dihedral angle .* < 5"):
        check_quality(sliver)
    assert check_quality(sliver, min_dihedral_deg=0.1, min_shape_quality=0.001)


def test_cache_hit_miss_and_key(tmp_path):
    kw = dict(size=SIZE, h=2.5e-3, h_contact=1e-3, contact_radius=2e-3)
    first = meshing.box_pad(**kw)
    assert first.meta["cache"] == "miss"
    files = list((tmp_path / "cache" / "meshes").glob("box_pad-*.npz"))
    assert len(files) == 1
    second = meshing.box_pad(**kw)
    assert second.meta["cache"] == "hit"
    assert np.array_equal(first.points, second.points)
    assert np.array_equal(first.tets, second.tets)
    assert np.array_equal(first.surface_tris, second.surface_tris)
    assert second.meta["quality"] == first.meta["quality"]
    other = meshing.box_pad(**{**kw, "h_contact": 9e-4})
    assert other.meta["cache"] == "miss"
    assert len(list((tmp_path / "cache" / "meshes").glob("*.npz"))) == 2


def test_corrupt_cache_file_is_rebuilt(tmp_path):
    kw = dict(size=SIZE, h=2.5e-3, h_contact=1e-3, contact_radius=2e-3)
    good = meshing.box_pad(**kw)
    (path,) = (tmp_path / "cache" / "meshes").glob("box_pad-*.npz")
    path.write_bytes(b"not a zip archive")
    rebuilt = meshing.box_pad(**kw)  # warnings are errors in tests: none may be raised
    assert rebuilt.meta["cache"] == "miss"
    assert np.array_equal(rebuilt.points, good.points)
    assert load_mesh(path).n_tets == good.n_tets
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


def test_save_load_roundtrip_and_corrupt_file_error(tmp_path):
    m = structured_box()
    save_mesh(m, tmp_path / "m.npz")
    back = load_mesh(tmp_path / "m.npz")
    assert np.array_equal(back.tets, m.tets) and back.meta["cells"] == [8, 8, 2]
    (tmp_path / "bad.npz").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="corrupt mesh file .*bad.npz"):
        load_mesh(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        load_mesh(tmp_path / "missing.npz")


@pytest.mark.parametrize("kw, msg", [({"h": -1.0}, "h must be a positive"),
                                     ({"h_contact": 5e-3, "h": 1e-3}, "must not exceed"),
                                     ({"size": (0.01, 0.0, 0.01)}, "L must be")])
def test_bad_parameters(kw, msg):
    with pytest.raises(ValueError, match=msg):
        meshing.box_pad(**kw)


def test_missing_gmsh_names_the_extra_and_fallback(monkeypatch):
    monkeypatch.setitem(sys.modules, "gmsh", None)  # makes `import gmsh` fail
    with pytest.raises(ImportError, match=r"tacsuite\[mesh\]"):
        meshing.box_pad(SIZE)
    m = meshing.box_pad(SIZE, h=2e-3, h_contact=1e-3, fallback=True)
    assert m.meta["mesher"] == "structured" and m.meta["cells"] == (20, 16, 5)
    assert m.volumes().sum() == pytest.approx(np.prod(SIZE))
