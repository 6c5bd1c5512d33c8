import numpy as np
import pytest

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.mesh import structured_box
from tacsuite.sim.trigeom import closest_point_triangle

ensure_init()
ti = import_taichi()
from tacsuite.sim.spatial_hash import SurfaceHash, closest_points_bruteforce  # noqa: E402

SIZE = (0.012, 0.01, 0.004)
CUTOFF = 8e-4


def _wobble(points, amp, seed):
    """A smooth, non-affine deformation (keeps the surface closed and unfolded)."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(200, 600, size=(3, 3))
    phase = rng.uniform(0, 2 * np.pi, size=3)
    return points + amp * np.sin(points @ k.T + phase)


@pytest.fixture(scope="module")
def box():
    m = structured_box(SIZE, (6, 5, 2))
    x = ti.Vector.field(3, ti.f64, shape=m.n_nodes)  # all nodes, as a FEM would hold them
    x.from_numpy(m.points)
    h = SurfaceHash(m.surface_tris, CUTOFF, positions=x)
    h.rebuild()
    return m, x, h


def _check_against_reference(h, points, verts, tris, allpairs=False):
    got = h.query(points, allpairs=allpairs)
    ref = closest_points_bruteforce(points, verts, tris, CUTOFF)
    hit = ref["tri"] >= 0
    assert np.array_equal(got["tri"] >= 0, hit), "a point within reach was missed"
    np.testing.assert_allclose(got["dist"], ref["dist"], atol=1e-12)
    # On the surface itself (distance ~ 0) the normal is any direction of the feature's
    # normal cone; away from it, it is the unique gradient of the distance.
    off = np.abs(ref["dist"]) > 1e-9
    np.testing.assert_allclose(got["normal"][off], ref["normal"][off], atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(got["normal"][hit], axis=1), 1.0, atol=1e-9)
    # The returned triangle and barycentrics rebuild a closest point (ties may pick a
    # different triangle than the reference, never a farther point).
    t, bary = got["tri"][hit], got["bary"][hit]
    q = np.einsum("ij,ijk->ik", bary, verts[tris[t]])
    np.testing.assert_allclose(np.linalg.norm(points[hit] - q, axis=1),
                               np.abs(ref["dist"][hit]), atol=1e-12)
    assert np.all(bary[:, :] >= -1e-12) and np.allclose(bary.sum(1), 1)
    return got, hit


def test_random_points_match_bruteforce_on_rest_and_deformed_surface(box):
    m, x, h = box
    rng = np.random.default_rng(0)
    lo = np.array([-SIZE[0] / 2, -SIZE[1] / 2, 0]) - 1.5e-3
    hi = np.array([SIZE[0] / 2, SIZE[1] / 2, SIZE[2]]) + 1.5e-3
    pts = rng.uniform(lo, hi, size=(3000, 3))
    got, hit = _check_against_reference(h, pts, m.points, m.surface_tris)
    assert 500 < hit.sum() < 2900
    # Sign: negative exactly for points inside the (undeformed, convex) box.
    inside = np.all((pts > lo + 1.5e-3) & (pts < hi - 1.5e-3), axis=1)
    assert np.array_equal(got["dist"][hit] < 0, inside[hit])
    # Deform, rebuild the same hash in place, and check again.
    for seed in (1, 2):
        moved = _wobble(m.points, 2e-4, seed)
        x.from_numpy(moved)
        h.rebuild()
        _check_against_reference(h, pts, moved, m.surface_tris)
    x.from_numpy(m.points)
    h.rebuild()


def test_points_near_edges_and_vertices_no_slip_through(box):
    m, x, h = box
    moved = _wobble(m.points, 2e-4, 3)
    x.from_numpy(moved)
    h.rebuild()
    tris = m.surface_tris
    rng = np.random.default_rng(4)
    corners = moved[np.unique(tris)]
    edges = moved[tris[:, 0]] + rng.uniform(0, 1, (len(tris), 1)) * (
        moved[tris[:, 1]] - moved[tris[:, 0]])
    base = np.concatenate([corners, edges])
    # Random directions, distances up to 0.9 cutoff: every point is within reach.
    d = rng.normal(size=base.shape)
    d *= rng.uniform(0, 0.9 * CUTOFF, (len(base), 1)) / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([base, base + d])
    got, hit = _check_against_reference(h, pts, moved, tris)
    assert hit.all(), "points within the cutoff slipped through"
    assert np.all(np.abs(got["dist"][len(base):]) <= np.linalg.norm(d, axis=1) + 1e-15)
    assert np.all(np.abs(got["dist"][: len(base)]) < 1e-12)
    np.testing.assert_allclose(np.linalg.norm(got["normal"], axis=1), 1.0, atol=1e-12)
    x.from_numpy(m.points)
    h.rebuild()


def test_allpairs_kernel_agrees(box):
    m, _, h = box
    pts = np.random.default_rng(5).uniform(-0.007, 0.007, size=(500, 3))
    _check_against_reference(h, pts, m.points, m.surface_tris, allpairs=True)


def test_normal_and_sign_above_and_below_the_top_face(box):
    _, _, h = box
    z = SIZE[2]
    r = h.query(np.array([[1e-4, 2e-4, z + 3e-4], [1e-4, 2e-4, z - 3e-4], [0, 0, z + 2e-3]]))
    np.testing.assert_allclose(r["dist"][:2], [3e-4, -3e-4], rtol=1e-9)
    np.testing.assert_allclose(r["normal"][:2], [[0, 0, 1], [0, 0, 1]], atol=1e-12)
    assert r["tri"][2] == -1 and r["dist"][2] == CUTOFF


def test_closest_is_callable_from_a_user_kernel(box):
    m, _, h = box
    pts = np.array([[0.001, -0.002, SIZE[2] + 1e-4], [0.0061, 0.0, 0.002]])
    field = ti.Vector.field(3, ti.f64, shape=2)
    field.from_numpy(pts)
    out = ti.field(ti.f64, shape=2)

    @ti.kernel
    def penetration_energy():
        for i in field:
            t, d, n, _ = h.closest(field[i])
            if t >= 0:
                out[i] = d * n.z

    penetration_energy()
    np.testing.assert_allclose(out.to_numpy(), [1e-4, 0.0], atol=1e-12)


def test_small_f32_hash_and_errors():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float) * 1e-3
    tris = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    h = SurfaceHash(tris, 5e-4, rest_vertices=verts)
    assert h.dtype == ti.f32 and h.rebuild() > 0
    p = np.array([[0.2e-3, 0.2e-3, -0.1e-3], [0.1e-3, 0.1e-3, 0.1e-3]])
    r = h.query(p)
    np.testing.assert_allclose(r["dist"], [1e-4, -1e-4], rtol=1e-5)
    np.testing.assert_allclose(r["normal"][0], [0, 0, -1], atol=1e-6)
    with pytest.raises(ValueError, match="cutoff must be a positive"):
        SurfaceHash(tris, 0.0, rest_vertices=verts)
    with pytest.raises(ValueError, match=r"tris must have shape \(K, 3\)"):
        SurfaceHash(tris[:, :2], 1e-3, rest_vertices=verts)
    with pytest.raises(ValueError, match="outside 0..3"):
        SurfaceHash(tris + 1, 1e-3, rest_vertices=verts)
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        h.set_vertices(verts[:3])
    small = SurfaceHash(tris, 5e-4, rest_vertices=verts, capacity=8)
    with pytest.raises(RuntimeError, match="capacity >= "):
        small.rebuild()


def test_closest_point_triangle_regions():
    a, b, c = np.array([0.0, 0, 0]), np.array([1.0, 0, 0]), np.array([0.0, 1, 0])
    p = np.array([[0.2, 0.2, 1], [-1, -1, 0], [2, -0.1, 0], [-0.1, 3, 0], [0.5, -1, 0],
                  [1, 1, 0], [-1, 0.5, 0]])
    bary, feat = closest_point_triangle(p, a, b, c)
    np.testing.assert_allclose(bary, [[0.6, 0.2, 0.2], [1, 0, 0], [0, 1, 0], [0, 0, 1],
                                      [0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]])
    assert feat.tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_face_distance_and_its_autodiff():
    verts = np.array([[0, 0, 0], [2, 0, 0.2], [0, 2, 0.1], [0.5, 0.5, -1]], float) * 1e-3
    tris = np.array([[0, 1, 2], [0, 3, 1], [1, 3, 2], [0, 2, 3]])
    x = ti.Vector.field(3, ti.f64, shape=4, needs_grad=True)
    x.from_numpy(verts)
    h = SurfaceHash(tris, 1e-3, positions=x)
    h.rebuild()
    p = np.array([0.5e-3, 0.4e-3, 0.3e-3])
    pt = ti.Vector.field(3, ti.f64, shape=(), needs_grad=True)
    pt[None] = p.tolist()
    loss = ti.field(ti.f64, shape=(), needs_grad=True)
    bary = ti.Vector.field(3, ti.f64, shape=())

    @ti.kernel
    def energy():
        d, _, b = h.face_distance(pt[None], 0)
        loss[None] += d * d
        bary[None] = b

    with ti.ad.Tape(loss):
        energy()
    a, b, c = verts[tris[0]]
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n)
    d = n @ (p - a)
    assert loss[None] == pytest.approx(d * d, rel=1e-12)
    w = bary.to_numpy()
    np.testing.assert_allclose(w @ verts[tris[0]], p - d * n, atol=1e-15)
    np.testing.assert_allclose(pt.grad.to_numpy(), 2 * d * n, rtol=1e-9)
    # d(loss)/d(node positions) against central differences.
    g = x.grad.to_numpy()
    for node, k in ((0, 2), (1, 0), (2, 2)):
        fd = []
        for s in (1, -1):
            v = verts.copy()
            v[node, k] += s * 1e-9
            a, b, c = v[tris[0]]
            nn = np.cross(b - a, c - a)
            fd.append((nn @ (p - a) / np.linalg.norm(nn)) ** 2)
        assert g[node, k] == pytest.approx((fd[0] - fd[1]) / 2e-9, rel=1e-5)
    assert np.abs(g[3]).max() == 0


def test_groups_see_only_their_own_copy_of_the_surface():
    # Three copies of the box in one hash, overlapping in space: the same box, one
    # wobbled and one shifted by half its width. Each point queried in group g must get
    # exactly what a hash of copy g alone gives.
    m = structured_box(SIZE, (6, 5, 2))
    n, K = m.n_nodes, len(m.surface_tris)
    copies = [m.points, _wobble(m.points, 2e-4, 3), m.points + [SIZE[0] / 2, 0, 0]]
    tris = np.concatenate([m.surface_tris + g * n for g in range(3)])
    h = SurfaceHash(tris, CUTOFF, rest_vertices=np.concatenate(copies), dtype=ti.f64,
                    groups=3)
    h.rebuild()
    rng = np.random.default_rng(4)
    lo = np.array([-SIZE[0] / 2, -SIZE[1] / 2, 0]) - 1e-3
    hi = np.array([SIZE[0], SIZE[1] / 2, SIZE[2]]) + 1e-3
    pts = rng.uniform(lo, hi, size=(600, 3))
    field = ti.Vector.field(3, ti.f64, shape=len(pts))
    field.from_numpy(pts)
    tri = ti.field(ti.i32, shape=(3, len(pts)))
    dist = ti.field(ti.f64, shape=(3, len(pts)))

    @ti.kernel
    def query_groups():
        for g, i in tri:
            t, d, _n, _w = h.closest_in(field[i], g)
            tri[g, i], dist[g, i] = t, d

    query_groups()
    for g, verts in enumerate(copies):
        ref = closest_points_bruteforce(pts, verts, m.surface_tris, CUTOFF)
        t = tri.to_numpy()[g]
        assert np.array_equal(t >= 0, ref["tri"] >= 0), g
        assert np.all((t[t >= 0] >= g * K) & (t[t >= 0] < (g + 1) * K)), g
        np.testing.assert_allclose(dist.to_numpy()[g], ref["dist"], atol=1e-12)
    with pytest.raises(ValueError, match="groups must be a positive int dividing"):
        SurfaceHash(tris[:-1], CUTOFF, rest_vertices=np.concatenate(copies), groups=3)
