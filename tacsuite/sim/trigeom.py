"""Point-triangle geometry shared by the spatial hash, the SDF grid and their references.

`closest_point_triangle` (numpy, vectorised) and `closest_point_triangle_ti` (a Taichi
function) implement the same Voronoi-region walk (Ericson, Real-Time Collision Detection,
5.1.5) and also return which feature of the triangle is closest: the face, one of the
three vertices or one of the three edges. The feature picks the angle-weighted
pseudo-normal (Baerentzen and Aanaes 2005) whose sign is exact for closed surfaces, so
inside/outside is right even when the closest point sits on an edge or a vertex, where a
single face normal can give the wrong sign.

Feature codes: 0 face, 1/2/3 vertex 0/1/2, 4 edge 0-1, 5 edge 1-2, 6 edge 2-0.
"""

from __future__ import annotations

import numpy as np

FACE, VERT0, VERT1, VERT2, EDGE01, EDGE12, EDGE20 = range(7)


def closest_point_triangle(p, a, b, c):
    """Closest point of triangles (a, b, c) to points p, all shaped (..., 3).

    Returns (bary (..., 3), feature (...) int8) with q = bary[0] a + bary[1] b + bary[2] c.
    """
    p, a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (p, a, b, c)))
    ab, ac = b - a, c - a
    ap, bp, cp = p - a, p - b, p - c
    d1, d2 = _dot(ab, ap), _dot(ac, ap)
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    conds = [
        (d1 <= 0) & (d2 <= 0),
        (d3 >= 0) & (d4 <= d3),
        (vc <= 0) & (d1 >= 0) & (d3 <= 0),
        (d6 >= 0) & (d5 <= d6),
        (vb <= 0) & (d2 >= 0) & (d6 <= 0),
        (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0),
    ]
    feature = np.select(conds, [VERT0, VERT1, EDGE01, VERT2, EDGE20, EDGE12], FACE)
    feature = feature.astype(np.int8)
    v_ab = _safe_div(d1, d1 - d3)
    w_ac = _safe_div(d2, d2 - d6)
    w_bc = _safe_div(d4 - d3, (d4 - d3) + (d5 - d6))
    denom = va + vb + vc
    v_f, w_f = _safe_div(vb, denom), _safe_div(vc, denom)
    one, zero = np.ones_like(d1), np.zeros_like(d1)
    u = np.select([feature == k for k in (VERT0, VERT1, VERT2, EDGE01, EDGE20, EDGE12)],
                  [one, zero, zero, 1 - v_ab, 1 - w_ac, zero], 1 - v_f - w_f)
    v = np.select([feature == k for k in (VERT0, VERT1, VERT2, EDGE01, EDGE20, EDGE12)],
                  [zero, one, zero, v_ab, zero, 1 - w_bc], v_f)
    w = 1.0 - u - v
    return np.stack([u, v, w], axis=-1), feature


def _dot(x, y):
    return np.einsum("...i,...i->...", x, y)


def _safe_div(num, den):
    out = np.zeros(np.broadcast_shapes(np.shape(num), np.shape(den)))
    np.divide(num, den, out=out, where=den != 0)
    return out


def face_normals(verts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Unit normals (right-hand rule); degenerate faces get a zero vector."""
    n = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return np.divide(n, norm, out=np.zeros_like(n), where=norm > 0)


def edge_neighbours(tris: np.ndarray) -> np.ndarray:
    """(K, 3) index of the triangle across edge 0-1, 1-2 and 2-0 of each triangle.

    -1 marks a boundary edge (open surface). Raises ValueError where an edge is shared by
    more than two triangles, because no outward side is defined there.
    """
    tris = np.asarray(tris, dtype=np.int64)
    k = len(tris)
    e = np.stack([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]], axis=1).reshape(-1, 2)
    key = np.sort(e, axis=1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    if np.any(counts > 2):
        raise ValueError(f"{int(np.sum(counts > 2))} edges are shared by more than two "
                         "triangles; the surface is not a manifold")
    order = np.argsort(inv, kind="stable")
    nb = np.full(3 * k, -1, dtype=np.int64)
    first, second = order[:-1], order[1:]
    pair = inv[first] == inv[second]
    nb[first[pair]] = second[pair] // 3
    nb[second[pair]] = first[pair] // 3
    return nb.reshape(k, 3).astype(np.int32)


def vertex_pseudo_normals(verts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Angle-weighted vertex normals (not normalised; only their direction matters)."""
    fn = face_normals(verts, tris)
    out = np.zeros_like(verts, dtype=np.float64)
    for i in range(3):
        p0 = verts[tris[:, i]]
        e1 = verts[tris[:, (i + 1) % 3]] - p0
        e2 = verts[tris[:, (i + 2) % 3]] - p0
        cosang = _dot(e1, e2) / np.maximum(np.linalg.norm(e1, axis=1)
                                           * np.linalg.norm(e2, axis=1), 1e-300)
        ang = np.arccos(np.clip(cosang, -1.0, 1.0))
        np.add.at(out, tris[:, i], ang[:, None] * fn)
    return out


def pseudo_normals(verts, tris, tri_ids, feature, fn=None, nb=None, vn=None) -> np.ndarray:
    """Pseudo-normal of the closest feature for each (triangle id, feature code) pair."""
    fn = face_normals(verts, tris) if fn is None else fn
    nb = edge_neighbours(tris) if nb is None else nb
    vn = vertex_pseudo_normals(verts, tris) if vn is None else vn
    tri_ids = np.asarray(tri_ids)
    out = fn[tri_ids].copy()
    for code, local in ((VERT0, 0), (VERT1, 1), (VERT2, 2)):
        m = feature == code
        out[m] = vn[tris[tri_ids[m], local]]
    for code, local in ((EDGE01, 0), (EDGE12, 1), (EDGE20, 2)):
        m = feature == code
        other = nb[tri_ids[m], local]
        out[m] = fn[tri_ids[m]] + np.where(other[:, None] >= 0, fn[np.maximum(other, 0)], 0.0)
    return out


def make_closest_point_func():
    """Build the Taichi version of `closest_point_triangle` (needs Taichi imported).

    The returned @ti.func maps (p, a, b, c) -> (bary vec3, feature int).
    """
    from tacsuite.sim.backend import import_taichi

    ti = import_taichi()

    @ti.func
    def closest_point_triangle_ti(p, a, b, c):
        ab, ac = b - a, c - a
        ap, bp, cp = p - a, p - b, p - c
        d1, d2 = ab.dot(ap), ac.dot(ap)
        d3, d4 = ab.dot(bp), ac.dot(bp)
        d5, d6 = ab.dot(cp), ac.dot(cp)
        va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
        u, v = 1.0 + 0.0 * d1, 0.0 * d1
        feature = FACE
        if d1 <= 0 and d2 <= 0:
            feature = VERT0
        elif d3 >= 0 and d4 <= d3:
            u, v, feature = 0.0, 1.0, VERT1
        elif vc <= 0 and d1 >= 0 and d3 <= 0:
            t = d1 / (d1 - d3) if d1 - d3 != 0 else 0.0 * d1
            u, v, feature = 1.0 - t, t, EDGE01
        elif d6 >= 0 and d5 <= d6:
            u, v, feature = 0.0, 0.0, VERT2
        elif vb <= 0 and d2 >= 0 and d6 <= 0:
            t = d2 / (d2 - d6) if d2 - d6 != 0 else 0.0 * d2
            u, v, feature = 1.0 - t, 0.0, EDGE20
        elif va <= 0 and d4 - d3 >= 0 and d5 - d6 >= 0:
            den = (d4 - d3) + (d5 - d6)
            t = (d4 - d3) / den if den != 0 else 0.0 * den
            u, v, feature = 0.0, 1.0 - t, EDGE12
        else:
            den = va + vb + vc
            if den != 0:
                v = vb / den
                u = 1.0 - v - vc / den
        return ti.Vector([u, v, 1.0 - u - v]), feature

    return closest_point_triangle_ti
