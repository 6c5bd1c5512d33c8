"""Closest point on a deforming triangle surface for many query points, in Taichi.

`SurfaceHash` bins the gel's surface triangles into a hashed uniform grid: each triangle
goes into every cell its bounding box, grown by `cutoff`, overlaps. A triangle within
`cutoff` of a point therefore always sits in the point's own cell, so a query reads one
bucket and no point within reach of the surface can slip through (DiffTactile's
nearest-centroid search misses points whose projection leaves that one triangle). The
distance is the exact point-triangle distance, signed by the angle-weighted
pseudo-normal of the closest feature (face, edge or vertex), and the normal always points
out of the surface: the direction of the distance gradient.

The structure is rebuilt by one kernel launch per step (`rebuild`) from the current node
positions, which the hash can read straight from the simulator's own field. Kernels call
`closest(p)` (a @ti.func); `query(points)` does the same from numpy. `closest` is for
detection (its search loop is not differentiated); `face_distance(p, t)` gives the smooth
plane distance to the triangle it found, for differentiable contact forces.
`closest_points_bruteforce` is the all-pairs numpy reference; `query_allpairs` is the
all-pairs Taichi kernel used as the speed baseline.

Groups: one hash can hold `groups` copies of a surface (the same gel in every
environment of a batch, triangles of copy g at ids g K .. (g + 1) K - 1). The group
enters the cell key, and `closest_in(p, g)` sees copy g only, so B environments whose
surfaces overlap in space are rebuilt and queried in one launch each.
"""

# No `from __future__ import annotations`: Taichi reads kernel annotations as objects.

import numpy as np

from tacsuite.sim import trigeom
from tacsuite.sim.backend import ensure_init, import_taichi

ti = import_taichi()

_HASH_PRIMES = (73856093, 19349663, 83492791, 2654435761)


def closest_points_bruteforce(points, verts, tris, cutoff: float = np.inf,
                              chunk: int = 256) -> dict:
    """All-pairs numpy reference of `SurfaceHash.query` (same keys, float64).

    Points with no triangle within `cutoff` (inclusive) get tri = -1, dist = cutoff and a
    zero normal.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    verts = np.asarray(verts, dtype=np.float64)
    tris = np.asarray(tris, dtype=np.int64)
    fn = trigeom.face_normals(verts, tris)
    nb = trigeom.edge_neighbours(tris)
    vn = trigeom.vertex_pseudo_normals(verts, tris)
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    n = len(points)
    out = {"dist": np.full(n, float(cutoff)), "normal": np.zeros((n, 3)),
           "tri": np.full(n, -1, dtype=np.int32), "bary": np.zeros((n, 3))}
    for s in range(0, n, chunk):
        p = points[s:s + chunk, None, :]
        bary, feat = trigeom.closest_point_triangle(p, a, b, c)
        q = bary[..., 0:1] * a + bary[..., 1:2] * b + bary[..., 2:3] * c
        d2 = np.sum((p - q) ** 2, axis=-1)
        best = np.argmin(d2, axis=1)
        rows = np.arange(len(best))
        d = np.sqrt(d2[rows, best])
        hit = d <= cutoff
        idx = np.flatnonzero(hit)
        bt, bf = best[idx], feat[idx, best[idx]]
        pn = trigeom.pseudo_normals(verts, tris, bt, bf, fn, nb, vn)
        diff = points[s + idx] - q[idx, bt]
        sign = np.where(np.einsum("ij,ij->i", diff, pn) >= 0, 1.0, -1.0)
        dd = d[idx]
        far = dd > 1e-12 * max(1.0, float(np.abs(verts).max()))
        normal = np.where(far[:, None], sign[:, None] * diff / np.where(far, dd, 1)[:, None],
                          pn / np.maximum(np.linalg.norm(pn, axis=1, keepdims=True), 1e-300))
        sl = s + idx
        out["dist"][sl] = sign * dd
        out["normal"][sl] = normal
        out["tri"][sl] = bt
        out["bary"][sl] = bary[idx, bt]
    return out


def nearest_centroid_inside(points, verts, tris) -> np.ndarray:
    """(P,) bool: whether a nearest-centroid search counts each point as inside the
    surface (the triangle with the nearest centroid, the point below its plane and its
    projection inside that triangle), the search `SurfaceHash` replaces. Points inside
    the surface for which this is False would get no contact force from it."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    verts = np.asarray(verts, dtype=np.float64)
    a, b, c = (verts[np.asarray(tris)[:, k]] for k in range(3))
    cen = (a + b + c) / 3
    near = np.argmin(((points[:, None, :] - cen[None]) ** 2).sum(-1), axis=1)
    a, b, c = a[near], b[near], c[near]
    n2 = np.cross(b - a, c - a)
    area2 = (n2 ** 2).sum(1)
    d = ((points - a) * n2).sum(1)
    q = points - (d / area2)[:, None] * n2
    wb = (np.cross(q - a, c - a) * n2).sum(1) / area2
    wc = (np.cross(b - a, q - a) * n2).sum(1) / area2
    return (d < 0) & (wb >= 0) & (wc >= 0) & (wb + wc <= 1)


@ti.data_oriented
class SurfaceHash:
    """Hashed uniform grid over a closed triangle surface whose nodes move every step.

    Args:
        tris: (K, 3) node indices, counter-clockwise seen from outside (as
            `TetMesh.surface_tris`).
        cutoff: largest distance (metres) at which a point still finds the surface;
            choose it above the deepest penetration the contact model allows.
        positions: a Taichi Vector(3) field holding all node positions (for example the
            FEM gel's), read in place; or None to own a field of `n_verts` nodes filled
            by `set_vertices`.
        cell_size: grid cell edge; default max(mean rest edge length, cutoff).
        rest_vertices: (N, 3) positions used to size the grid and the entry buffer.
        capacity: entry-buffer length; default 4x the rest count. `rebuild` raises if a
            deformed surface needs more.
        dtype: ti.f32 (default) or ti.f64; ignored when `positions` is given.
        groups: copies of one surface in `tris` (equal consecutive blocks), each found
            only by `closest_in(p, g)` with its own g.
    """

    def __init__(self, tris, cutoff: float, *, positions=None, rest_vertices=None,
                 n_verts: int | None = None, cell_size: float | None = None,
                 capacity: int | None = None, dtype=None, groups: int = 1):
        ensure_init()
        tris = np.ascontiguousarray(tris, dtype=np.int32)
        if tris.ndim != 2 or tris.shape[1] != 3 or len(tris) == 0:
            raise ValueError(f"tris must have shape (K, 3) with K >= 1, got {tris.shape}")
        if not (isinstance(groups, int) and groups >= 1 and len(tris) % groups == 0):
            raise ValueError(f"groups must be a positive int dividing the {len(tris)} "
                             f"triangles, got {groups!r}")
        self.groups, self.group_tris = groups, len(tris) // groups
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(f"cutoff must be a positive distance, got {cutoff!r}")
        if positions is None:
            if rest_vertices is None and n_verts is None:
                raise ValueError("give positions (a Taichi field), rest_vertices or n_verts")
            n = len(rest_vertices) if rest_vertices is not None else int(n_verts)
            positions = ti.Vector.field(3, dtype=dtype or ti.f32, shape=n)
            if rest_vertices is not None:
                positions.from_numpy(np.asarray(rest_vertices, dtype=_np_dtype(positions.dtype)))
        self.x = positions
        self.dtype = positions.dtype
        n_nodes = positions.shape[0]
        if tris.min() < 0 or tris.max() >= n_nodes:
            raise ValueError(f"tris index nodes outside 0..{n_nodes - 1}")
        rest = (np.asarray(rest_vertices, dtype=np.float64) if rest_vertices is not None
                else positions.to_numpy().astype(np.float64))
        edges = np.linalg.norm(rest[tris] - rest[np.roll(tris, 1, axis=1)], axis=2)
        self.cutoff = float(cutoff)
        self.cell_size = float(cell_size) if cell_size else max(float(edges.mean()),
                                                                self.cutoff)
        if not self.cell_size > 0:
            raise ValueError(f"cell_size must be positive, got {cell_size!r}")
        self.inv_cell = 1.0 / self.cell_size
        self.n_tris = len(tris)
        count = int(self._count_entries(rest, tris))
        self.table_size = 1 << max(10, int(np.ceil(np.log2(max(count, 1) * 2))))
        self.capacity = int(capacity) if capacity else 4 * count + 1024
        self.tris = ti.Vector.field(3, ti.i32, shape=self.n_tris)
        self.tris.from_numpy(tris)
        self.nbr = ti.Vector.field(3, ti.i32, shape=self.n_tris)
        self.nbr.from_numpy(trigeom.edge_neighbours(tris))
        self.fn = ti.Vector.field(3, self.dtype, shape=self.n_tris)
        self.sphere = ti.Vector.field(4, self.dtype, shape=self.n_tris)
        # cutoff and 1/cell_size as fields of the surface's float type: a Python float
        # inside a kernel would be rounded to Taichi's default (f32) precision.
        self.consts = ti.field(self.dtype, shape=2)
        self.consts.from_numpy(np.array([self.cutoff, self.inv_cell], _np_dtype(self.dtype)))
        self.vn = ti.Vector.field(3, self.dtype, shape=n_nodes)
        self.cell_count = ti.field(ti.i32, shape=self.table_size)
        self.cell_start = ti.field(ti.i32, shape=self.table_size + 1)
        self.cell_fill = ti.field(ti.i32, shape=self.table_size)
        self.entries = ti.field(ti.i32, shape=self.capacity)
        # Bounding sphere (centre, radius) stored beside each entry: a bucket scan then
        # reads contiguous memory.
        self.entry_sphere = ti.Vector.field(4, self.dtype, shape=self.capacity)
        self._buffers: dict[int, tuple] = {}
        self.n_entries = 0

    def _count_entries(self, verts, tris) -> int:
        v = verts[tris]
        lo = np.floor((v.min(1) - self.cutoff) * self.inv_cell)
        hi = np.floor((v.max(1) + self.cutoff) * self.inv_cell)
        return int(np.prod(hi - lo + 1, axis=1).sum())

    # --- building ---------------------------------------------------------------------
    def set_vertices(self, verts) -> None:
        verts = np.asarray(verts)
        if verts.shape != (self.x.shape[0], 3):
            raise ValueError(f"vertices must have shape ({self.x.shape[0]}, 3), "
                             f"got {verts.shape}")
        self.x.from_numpy(verts.astype(_np_dtype(self.dtype)))

    def rebuild(self) -> int:
        """Re-bin all triangles at the current positions (one kernel launch).

        Returns the number of (cell, triangle) entries.
        """
        total = int(self._rebuild_kernel())
        if total > self.capacity:
            raise RuntimeError(f"the deformed surface needs {total} hash entries but the "
                               f"buffer holds {self.capacity}; construct SurfaceHash with "
                               f"capacity >= {total} or a larger cell_size")
        self.n_entries = total
        return total

    @ti.func
    def _cell(self, p):
        return ti.cast(ti.floor(p * self.consts[1]), ti.i32)

    @ti.func
    def _hash(self, c, g):
        h = (ti.cast(c[0], ti.u32) * ti.u32(_HASH_PRIMES[0])) ^ \
            (ti.cast(c[1], ti.u32) * ti.u32(_HASH_PRIMES[1])) ^ \
            (ti.cast(c[2], ti.u32) * ti.u32(_HASH_PRIMES[2])) ^ \
            (ti.cast(g, ti.u32) * ti.u32(_HASH_PRIMES[3]))
        return ti.cast(h & ti.u32(self.table_size - 1), ti.i32)

    @ti.func
    def _reaches(self, t, cell):
        """Whether triangle t's bounding sphere grown by the cutoff meets the cell: the
        bounding box alone would also fill the box corners, about twice the cells."""
        s = self.sphere[t]
        size = 1.0 / self.consts[1]
        lo = ti.cast(cell, self.dtype) * size
        gap = ti.max(lo - s.xyz, 0.0) + ti.max(s.xyz - (lo + size), 0.0)
        reach = s.w + self.consts[0] + 1e-4 * size  # slack for floor() rounding
        return gap.norm_sqr() <= reach * reach

    @ti.kernel
    def _rebuild_kernel(self) -> ti.i32:
        for i in self.cell_count:
            self.cell_count[i] = 0
        for v in self.vn:
            self.vn[v] = ti.Vector.zero(self.dtype, 3)
        for t in self.tris:
            a = self.x[self.tris[t][0]]
            b = self.x[self.tris[t][1]]
            c = self.x[self.tris[t][2]]
            n = (b - a).cross(c - a)
            ln = n.norm()
            fn = ti.Vector.zero(self.dtype, 3)
            if ln > 0:
                fn = n / ln
            self.fn[t] = fn
            centre = (a + b + c) / 3.0
            # Radius padded by 1e-5 (relative) so f32 rounding never cuts a corner off.
            self.sphere[t] = ti.Vector([centre[0], centre[1], centre[2], ti.sqrt(ti.max(
                (a - centre).norm_sqr(), (b - centre).norm_sqr(), (c - centre).norm_sqr()))
                * (1.0 + 1e-5)])
            corners = [a, b, c]
            for k in ti.static(range(3)):
                e1 = corners[(k + 1) % 3] - corners[k]
                e2 = corners[(k + 2) % 3] - corners[k]
                den = e1.norm() * e2.norm()
                if den > 0:
                    ang = ti.acos(ti.math.clamp(e1.dot(e2) / den, -1.0, 1.0))
                    self.vn[self.tris[t][k]] += ang * fn
            lo = self._cell(ti.min(a, b, c) - self.consts[0])
            hi = self._cell(ti.max(a, b, c) + self.consts[0])
            for i, j, k in ti.ndrange((lo[0], hi[0] + 1), (lo[1], hi[1] + 1),
                                      (lo[2], hi[2] + 1)):
                if self._reaches(t, ti.Vector([i, j, k])):
                    key = self._hash(ti.Vector([i, j, k]), t // self.group_tris)
                    ti.atomic_add(self.cell_count[key], 1)
        ti.loop_config(serialize=True)
        for i in range(self.table_size):
            if i == 0:
                self.cell_start[0] = 0
            self.cell_start[i + 1] = self.cell_start[i] + self.cell_count[i]
            self.cell_fill[i] = self.cell_start[i]
        for t in self.tris:
            a = self.x[self.tris[t][0]]
            b = self.x[self.tris[t][1]]
            c = self.x[self.tris[t][2]]
            lo = self._cell(ti.min(a, b, c) - self.consts[0])
            hi = self._cell(ti.max(a, b, c) + self.consts[0])
            for i, j, k in ti.ndrange((lo[0], hi[0] + 1), (lo[1], hi[1] + 1),
                                      (lo[2], hi[2] + 1)):
                if self._reaches(t, ti.Vector([i, j, k])):
                    key = self._hash(ti.Vector([i, j, k]), t // self.group_tris)
                    slot = ti.atomic_add(self.cell_fill[key], 1)
                    if slot < self.capacity:
                        self.entries[slot] = t
                        self.entry_sphere[slot] = self.sphere[t]
        return self.cell_start[self.table_size]

    # --- queries ----------------------------------------------------------------------
    @ti.func
    def _candidate(self, p, t, sphere, best_d2, best_d, best_t, best_bary, best_feat):
        # Bounding-sphere test first (|p - centre| <= best + radius, no square root): it
        # rejects most candidates for one contiguous vector read.
        reach = best_d + sphere.w
        if (p - sphere.xyz).norm_sqr() <= reach * reach:
            a = self.x[self.tris[t][0]]
            b = self.x[self.tris[t][1]]
            c = self.x[self.tris[t][2]]
            bary, feat = _closest_point_triangle_ti(p, a, b, c)
            q = bary[0] * a + bary[1] * b + bary[2] * c
            d2 = (p - q).norm_sqr()
            # Ties (a point equidistant from two triangles) go to the lower id:
            # deterministic whatever order the atomics filled the bucket in.
            if d2 < best_d2 or (d2 == best_d2 and (best_t < 0 or t < best_t)):
                best_d2, best_d, best_t, best_bary, best_feat = d2, ti.sqrt(d2), t, bary, feat
        return best_d2, best_d, best_t, best_bary, best_feat

    @ti.func
    def _finish(self, p, best_d2, best_t, best_bary, best_feat):
        dist = self.consts[0]
        normal = ti.Vector.zero(self.dtype, 3)
        if best_t >= 0:
            tri = self.tris[best_t]
            q = (best_bary[0] * self.x[tri[0]] + best_bary[1] * self.x[tri[1]]
                 + best_bary[2] * self.x[tri[2]])
            pn = self.fn[best_t]
            for k in ti.static(range(3)):
                if best_feat == trigeom.VERT0 + k:
                    pn = self.vn[tri[k]]
                if best_feat == trigeom.EDGE01 + k:
                    other = self.nbr[best_t][k]
                    if other >= 0:
                        pn += self.fn[other]
            diff = p - q
            sign = 1.0
            if diff.dot(pn) < 0:
                sign = -1.0
            d = ti.sqrt(best_d2)
            dist = sign * d
            if d > 1e-7 * self.cell_size:
                normal = sign * diff / d
            else:
                normal = pn.normalized()
        return dist, normal

    @ti.func
    def closest(self, p):
        """(tri id or -1, signed distance, outward unit normal, barycentrics) for point p.

        Only triangles within `cutoff` count; with none, tri = -1 and dist = cutoff.
        """
        return self.closest_in(p, 0)

    @ti.func
    def closest_in(self, p, g):
        """`closest` among the triangles of group g (ids keep their global numbering)."""
        h = self._hash(self._cell(p), g)
        start = self.cell_start[h]
        end = ti.min(self.cell_start[h + 1], self.capacity)
        # Pass 1: the triangle with the nearest bounding-sphere centre is usually the
        # nearest or close to it; its exact distance is a tight bound, so pass 2 runs the
        # exact test only on the few triangles whose spheres come closer than that.
        near_k = -1
        near_c2 = self.consts[0] * self.consts[0] * 4.0
        for k in range(start, end):
            c2 = (p - self.entry_sphere[k].xyz).norm_sqr()
            if c2 < near_c2 and self.entries[k] // self.group_tris == g:
                near_c2, near_k = c2, k
        best_d2 = self.consts[0] * self.consts[0]
        best_d = self.consts[0]
        best_t = -1
        best_bary = ti.Vector.zero(self.dtype, 3)
        best_feat = 0
        if near_k >= 0:
            best_d2, best_d, best_t, best_bary, best_feat = self._candidate(
                p, self.entries[near_k], self.entry_sphere[near_k], best_d2, best_d, best_t,
                best_bary, best_feat)
        for k in range(start, end):
            # another group's triangles can share the bucket (a key collision)
            if self.entries[k] // self.group_tris == g:
                best_d2, best_d, best_t, best_bary, best_feat = self._candidate(
                    p, self.entries[k], self.entry_sphere[k], best_d2, best_d, best_t,
                    best_bary, best_feat)
        dist, normal = self._finish(p, best_d2, best_t, best_bary, best_feat)
        return best_t, dist, normal, best_bary

    @ti.func
    def face_distance(self, p, t):
        """(signed distance to triangle t's plane, its unit normal, barycentrics of p's
        projection) at the current positions.

        Smooth in p and in the node positions (no branches on geometry), so Taichi's
        autodiff can carry contact gradients through it once `closest` has picked t.
        """
        a = self.x[self.tris[t][0]]
        b = self.x[self.tris[t][1]]
        c = self.x[self.tris[t][2]]
        n2 = (b - a).cross(c - a)
        area2 = n2.norm_sqr()
        n = n2 / ti.sqrt(area2)
        d = n.dot(p - a)
        q = p - d * n
        wb = (q - a).cross(c - a).dot(n2) / area2
        wc = (b - a).cross(q - a).dot(n2) / area2
        return d, n, ti.Vector([1.0 - wb - wc, wb, wc])

    @ti.kernel
    def _query_kernel(self, pts: ti.template(), n: ti.i32, dist: ti.template(),
                      normal: ti.template(), tri: ti.template(), bary: ti.template()):
        for i in range(n):
            t, d, nn, bb = self.closest(pts[i])
            tri[i], dist[i], normal[i], bary[i] = t, d, nn, bb

    @ti.kernel
    def _allpairs_kernel(self, pts: ti.template(), n: ti.i32, dist: ti.template(),
                         normal: ti.template(), tri: ti.template(), bary: ti.template()):
        for i in range(n):
            p = pts[i]
            best_d2 = self.consts[0] * self.consts[0]
            best_d = self.consts[0]
            best_t = -1
            best_bary = ti.Vector.zero(self.dtype, 3)
            best_feat = 0
            for t in range(self.n_tris):
                best_d2, best_d, best_t, best_bary, best_feat = self._candidate(
                    p, t, self.sphere[t], best_d2, best_d, best_t, best_bary, best_feat)
            d, nn = self._finish(p, best_d2, best_t, best_bary, best_feat)
            tri[i], dist[i], normal[i], bary[i] = best_t, d, nn, best_bary

    def buffers(self, n: int):
        """Taichi fields (points, dist, normal, tri, bary) for up to n query points."""
        cap = max(256, 1 << int(np.ceil(np.log2(max(n, 1)))))
        if cap not in self._buffers:
            self._buffers[cap] = (ti.Vector.field(3, self.dtype, shape=cap),
                                  ti.field(self.dtype, shape=cap),
                                  ti.Vector.field(3, self.dtype, shape=cap),
                                  ti.field(ti.i32, shape=cap),
                                  ti.Vector.field(3, self.dtype, shape=cap))
        return self._buffers[cap]

    def query_fields(self, pts, n: int, out, allpairs: bool = False) -> None:
        """Query n points already in a Taichi field; results land in `out` fields."""
        kernel = self._allpairs_kernel if allpairs else self._query_kernel
        kernel(pts, n, *out)

    def query(self, points, allpairs: bool = False) -> dict:
        """Closest surface point data for (P, 3) numpy points (after `rebuild`)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        n = len(points)
        pts, *out = self.buffers(n)
        buf = np.zeros((pts.shape[0], 3))
        buf[:n] = points
        pts.from_numpy(buf.astype(_np_dtype(self.dtype)))
        self.query_fields(pts, n, out, allpairs)
        dist, normal, tri, bary = (f.to_numpy()[:n] for f in out)
        return {"dist": dist.astype(np.float64), "normal": normal.astype(np.float64),
                "tri": tri, "bary": bary.astype(np.float64)}


def _np_dtype(dtype):
    return np.float64 if dtype == ti.f64 else np.float32


_closest_point_triangle_ti = trigeom.make_closest_point_func()
