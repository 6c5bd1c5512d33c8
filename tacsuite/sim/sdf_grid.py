"""Rigid indenters of any shape: a signed distance grid built from a closed triangle mesh.

`load_triangle_mesh` reads .obj and .stl (ASCII or binary) files and checks that the
surface is closed and consistently oriented (it is flipped to face outward if needed).
`SDFGrid.from_mesh` samples the exact signed distance to the triangles at the grid nodes
(point-triangle distance, sign from the angle-weighted pseudo-normal of the closest
feature, computed by one Taichi kernel over all node-triangle pairs), and `SDFGrid.sample`
(a @ti.func) interpolates it trilinearly with its exact gradient and Hessian.

`MeshSDFIndenter` wraps a grid in the indenter contract of `tacsuite.sim.indenters`:
`dtype`, `n_poses`, a `pos` field of per-step positions (optionally with gradients),
`sdf(x, t) -> (phi, n)` with n the outward normal (by default exactly grad phi, of
length 1 up to interpolation error; `unit_normal=True` normalises it), `sdf_hessian(x, t)`
= dn/dx of exactly that n, and `set_pose`/`set_poses`/`poses`/`describe`. An optional fixed rotation
orients the mesh. Outside the grid box (at least `padding` from the surface) phi grows
with the distance to the box and the normal points away from it; no contact happens
there.
"""

# No `from __future__ import annotations`: Taichi reads kernel annotations as objects.

import math
from pathlib import Path

import numpy as np

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.indenters import Indenter

ti = import_taichi()

TINY = 1e-12


# --- triangle meshes ----------------------------------------------------------------------

def load_triangle_mesh(path, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (N, 3) float64 scaled by `scale`, triangles (K, 3) int32) from .obj/.stl.

    Polygons in .obj files are split into fans; STL vertices are welded by position.
    Raises FileNotFoundError, or ValueError naming the file (and line) that is corrupt,
    not closed or not consistently oriented.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such mesh file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".obj":
        verts, tris = _read_obj(path)
    elif suffix == ".stl":
        verts, tris = _read_stl(path)
    else:
        raise ValueError(f"{path}: unsupported mesh format {suffix!r}; use .obj or .stl")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    verts, tris = _drop_unused(verts, tris)
    return orient_closed_surface(verts * scale, tris, name=str(path))


def _read_obj(path: Path):
    verts, tris = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            try:
                if parts[0] == "v":
                    xyz = [float(v) for v in parts[1:4]]
                    if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
                        raise ValueError("a vertex needs three finite coordinates")
                    verts.append(xyz)
                elif parts[0] == "f":
                    idx = [int(tok.split("/")[0]) for tok in parts[1:]]
                    if len(idx) < 3:
                        raise ValueError("a face needs at least three vertices")
                    n = len(verts)
                    idx = [i - 1 if i > 0 else n + i for i in idx]
                    if any(i < 0 or i >= n for i in idx) or 0 in [int(t.split("/")[0])
                                                                 for t in parts[1:]]:
                        raise ValueError(f"face refers to a vertex outside 1..{n}")
                    tris.extend([idx[0], idx[k], idx[k + 1]] for k in range(1, len(idx) - 1))
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: corrupt OBJ line {line.strip()!r}: "
                                 f"{exc}") from exc
    if not tris:
        raise ValueError(f"{path}: no faces found (is this an OBJ triangle mesh?)")
    return np.array(verts, dtype=np.float64), np.array(tris, dtype=np.int64)


def _read_stl(path: Path):
    data = path.read_bytes()
    if len(data) >= 84:
        n = int(np.frombuffer(data[80:84], dtype="<u4")[0])
        if len(data) == 84 + 50 * n and n > 0:
            rec = np.frombuffer(data[84:], dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)),
                                                          ("attr", "<u2")]), count=n)
            return _weld(rec["v"].astype(np.float64).reshape(-1, 3), path)
    text = data.decode("ascii", errors="replace")
    if not text.lstrip().startswith("solid"):
        raise ValueError(f"{path}: neither an ASCII STL (starts with 'solid') nor a binary "
                         "STL whose size matches its triangle count")
    coords = []
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if parts and parts[0] == "vertex":
            try:
                xyz = [float(v) for v in parts[1:]]
                if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
                    raise ValueError("a vertex needs three finite coordinates")
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: corrupt STL line {line.strip()!r}: "
                                 f"{exc}") from exc
            coords.append(xyz)
    if not coords or len(coords) % 3:
        raise ValueError(f"{path}: {len(coords)} vertices found; an STL needs three per facet")
    return _weld(np.array(coords, dtype=np.float64), path)


def _weld(corners: np.ndarray, path) -> tuple[np.ndarray, np.ndarray]:
    verts, inv = np.unique(corners, axis=0, return_inverse=True)
    return verts, inv.reshape(-1, 3).astype(np.int64)


def _drop_unused(verts, tris):
    used = np.unique(tris)
    remap = np.full(len(verts), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return verts[used], remap[tris]


def orient_closed_surface(verts, tris, name: str = "mesh"):
    """Check the surface is closed and consistently oriented; flip it to face outward."""
    verts = np.asarray(verts, dtype=np.float64)
    tris = np.asarray(tris, dtype=np.int64)
    if len(tris) < 4:
        raise ValueError(f"{name}: {len(tris)} triangles cannot enclose a volume")
    degenerate = ((tris[:, 0] == tris[:, 1]) | (tris[:, 1] == tris[:, 2])
                  | (tris[:, 0] == tris[:, 2]))
    if degenerate.any():
        raise ValueError(f"{name}: {int(degenerate.sum())} triangles repeat a vertex")
    directed = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    key = directed[:, 0] * len(verts) + directed[:, 1]
    rev = directed[:, 1] * len(verts) + directed[:, 0]
    uniq, counts = np.unique(key, return_counts=True)
    if np.any(counts > 1) or not np.all(np.isin(rev, uniq)):
        raise ValueError(f"{name}: the surface is not closed and consistently oriented "
                         "(every edge must be shared by exactly two triangles that run it "
                         "in opposite directions)")
    c = verts[tris]
    volume = np.einsum("ij,ij->i", np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]),
                       c.mean(1)).sum() / 6.0
    if volume < 0:
        tris = tris[:, [0, 2, 1]]
    return verts, tris.astype(np.int32)


def icosphere(radius: float = 1.0, subdivisions: int = 3):
    """Closed triangulated sphere (vertices on the sphere), outward orientation."""
    t = (1.0 + 5**0.5) / 2
    v = [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t],
         [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]]
    f = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
         [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
         [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    verts = [np.array(p, float) / np.linalg.norm(p) for p in v]
    faces = f
    def mid(i, j, cache):
        k = (min(i, j), max(i, j))
        if k not in cache:
            m = verts[i] + verts[j]
            verts.append(m / np.linalg.norm(m))
            cache[k] = len(verts) - 1
        return cache[k]

    for _ in range(int(subdivisions)):
        cache: dict = {}
        new = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b, cache), mid(b, c, cache), mid(c, a, cache)
            new += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
        faces = new
    return orient_closed_surface(radius * np.array(verts), np.array(faces), "icosphere")


def mesh_signed_distance(points, verts, tris, dtype=None) -> np.ndarray:
    """Exact signed distance (negative inside) from points to a closed triangle mesh.

    One Taichi kernel over all point-triangle pairs (pruned by bounding spheres).
    """
    from tacsuite.sim.spatial_hash import SurfaceHash

    ensure_init()
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    lo = np.minimum(points.min(0), verts.min(0))
    hi = np.maximum(points.max(0), verts.max(0))
    reach = 2.0 * float(np.linalg.norm(hi - lo)) + TINY
    h = SurfaceHash(tris, reach, rest_vertices=verts, dtype=dtype or ti.f64)
    h.rebuild()
    out = h.query(points, allpairs=True)
    if np.any(out["tri"] < 0):  # cannot happen: the reach exceeds every distance
        raise RuntimeError("signed distance search missed points")
    return out["dist"]


# --- grid and indenter --------------------------------------------------------------------

@ti.data_oriented
class SDFGrid:
    """Node values phi[i, j, k] at origin + spacing * (i, j, k), trilinearly interpolated."""

    def __init__(self, phi, origin, spacing: float, dtype=None):
        ensure_init()
        phi = np.asarray(phi, dtype=np.float64)
        if phi.ndim != 3 or min(phi.shape) < 2:
            raise ValueError(f"phi must be a 3-D array with at least 2 nodes per axis, "
                             f"got shape {phi.shape}")
        if not np.all(np.isfinite(phi)):
            raise ValueError("phi holds non-finite values")
        if not (math.isfinite(spacing) and spacing > 0):
            raise ValueError(f"spacing must be positive, got {spacing!r}")
        self.dtype = dtype or ti.f32
        self.shape = phi.shape
        self.origin = np.asarray(origin, dtype=np.float64).reshape(3)
        self.spacing = float(spacing)
        self.values = phi
        npdt = np.float64 if self.dtype == ti.f64 else np.float32
        self.phi = ti.field(self.dtype, shape=self.shape)
        self.phi.from_numpy(phi.astype(npdt))
        # origin, 1/spacing and the upper corner in a field: full precision in f64 kernels.
        self.geo = ti.Vector.field(3, self.dtype, shape=3)
        upper = self.origin + self.spacing * (np.array(self.shape) - 1)
        self.geo.from_numpy(np.stack([self.origin, np.full(3, 1.0 / self.spacing),
                                      upper]).astype(npdt))

    @classmethod
    def from_mesh(cls, verts, tris, spacing: float | None = None, resolution: int = 48,
                  padding: float | None = None, dtype=None) -> "SDFGrid":
        """Grid over the mesh's bounding box grown by `padding` (default 4 cells).

        `spacing` wins over `resolution` (nodes along the longest side).
        """
        verts = np.asarray(verts, dtype=np.float64)
        lo, hi = verts.min(0), verts.max(0)
        if spacing is None:
            if int(resolution) < 4:
                raise ValueError(f"resolution must be at least 4, got {resolution}")
            spacing = float(np.max(hi - lo)) / (int(resolution) - 9)
        if not (spacing and spacing > 0):
            raise ValueError(f"spacing must be positive, got {spacing!r}")
        pad = 4.0 * spacing if padding is None else float(padding)
        if pad < 0:
            raise ValueError(f"padding must be >= 0, got {padding!r}")
        n = np.ceil((hi - lo + 2 * pad) / spacing).astype(int) + 1
        if np.prod(n) > 256**3:
            raise ValueError(f"grid of {tuple(n)} nodes is too large; raise spacing")
        origin = lo - pad
        axes = [origin[k] + spacing * np.arange(n[k]) for k in range(3)]
        nodes = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        phi = mesh_signed_distance(nodes, verts, tris).reshape(tuple(n))
        return cls(phi, origin, spacing, dtype=dtype)

    @ti.func
    def _cell(self, p):
        """Clamped point, lower cell corner, fractional position, 1/spacing."""
        lo, inv, hi = self.geo[0], self.geo[1], self.geo[2]
        c = ti.min(ti.max(p, lo), hi)
        u = (c - lo) * inv
        top = ti.Vector([self.shape[0] - 2, self.shape[1] - 2, self.shape[2] - 2])
        i0 = ti.min(ti.max(ti.cast(ti.floor(u), ti.i32), 0), top)
        return c, i0, u - ti.cast(i0, self.dtype), inv[0]

    @ti.func
    def sample(self, p):
        """(phi, gradient) of the interpolant at local point p.

        Outside the grid box: phi at the nearest box point plus the distance to it, with
        its exact gradient. Written without local mutation so that Taichi's autodiff
        compiles it quickly.
        """
        c, i0, f, inv = self._cell(p)
        phi = ti.cast(0.0, self.dtype)
        g = ti.Vector.zero(self.dtype, 3)
        for corner in ti.static(range(8)):
            o = ti.static([(corner >> 0) & 1, (corner >> 1) & 1, (corner >> 2) & 1])
            w = ti.Vector([f[k] if ti.static(o[k]) else 1.0 - f[k]
                           for k in ti.static(range(3))])
            dw = ti.Vector([1.0 if ti.static(o[k]) else -1.0 for k in ti.static(range(3))],
                           self.dtype)
            v = self.phi[i0[0] + o[0], i0[1] + o[1], i0[2] + o[2]]
            phi += v * w[0] * w[1] * w[2]
            g += v * ti.Vector([dw[0] * w[1] * w[2], w[0] * dw[1] * w[2],
                                w[0] * w[1] * dw[2]])
        g = g * inv
        off = p - c
        dist = off.norm()
        if dist > 0:
            # Clamped axes drop out of the grid part and carry the distance part.
            inside = ti.Vector([1.0 if off[k] == 0 else 0.0 for k in ti.static(range(3))],
                               self.dtype)
            phi += dist
            g = inside * g + off / dist
        return phi, g

    @ti.func
    def sample_hessian(self, p):
        """Hessian of the interpolant (the derivative of `sample`'s gradient) at p."""
        c, i0, f, inv = self._cell(p)
        h01 = ti.cast(0.0, self.dtype)
        h02 = ti.cast(0.0, self.dtype)
        h12 = ti.cast(0.0, self.dtype)
        for corner in ti.static(range(8)):
            o = ti.static([(corner >> 0) & 1, (corner >> 1) & 1, (corner >> 2) & 1])
            w = ti.Vector([f[k] if ti.static(o[k]) else 1.0 - f[k]
                           for k in ti.static(range(3))])
            dw = ti.Vector([1.0 if ti.static(o[k]) else -1.0 for k in ti.static(range(3))],
                           self.dtype)
            v = self.phi[i0[0] + o[0], i0[1] + o[1], i0[2] + o[2]]
            h01 += v * dw[0] * dw[1] * w[2]
            h02 += v * dw[0] * w[1] * dw[2]
            h12 += v * w[0] * dw[1] * dw[2]
        hess = ti.Matrix([[0.0, h01, h02], [h01, 0.0, h12], [h02, h12, 0.0]],
                         self.dtype) * (inv * inv)
        off = p - c
        dist = off.norm()
        if dist > 0:
            inside = ti.Vector([1.0 if off[k] == 0 else 0.0 for k in ti.static(range(3))],
                               self.dtype)
            m = ti.Matrix([[inside[0], 0.0, 0.0], [0.0, inside[1], 0.0],
                           [0.0, 0.0, inside[2]]], self.dtype)
            o = off / dist
            hess = m @ hess @ m + (ti.Matrix.identity(self.dtype, 3) - m
                                   - o.outer_product(o)) / dist
        return hess


@ti.data_oriented
class MeshSDFIndenter(Indenter):
    """Rigid indenter given by a closed triangle mesh, moved kinematically.

    Build it with `from_mesh(verts, tris, ...)` or `from_file(path, ...)`; several
    indenters may share one `SDFGrid`.

    Args:
        grid: the signed distance grid, in the indenter's own frame (metres); the frame's
            origin is the reference point `pos` places in the world.
        rotation: fixed 3x3 rotation from the indenter frame to the world.
        n_poses, needs_grad: as the analytic indenters; dtype is the grid's.
        unit_normal: False (default): the normal is exactly the gradient of the
            interpolated phi, so forces phi * n have the exact derivative
            n n^T + phi * sdf_hessian that Newton solvers and adjoints assume; its length
            is 1 up to the interpolation error (a few per cent on coarse grids). True:
            normalised, and `sdf_hessian` is the derivative of the normalised vector.
    """

    kind = "mesh"

    def __init__(self, grid: SDFGrid, *, rotation=None, n_poses: int = 1,
                 needs_grad: bool = False, unit_normal: bool = False, name: str = "mesh",
                 n_tris: int | None = None):
        ensure_init()
        if not isinstance(grid, SDFGrid):
            raise TypeError(f"grid must be an SDFGrid, got {type(grid).__name__}; use "
                            "MeshSDFIndenter.from_mesh or from_file for triangle meshes")
        rot = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
        if rot.shape != (3, 3) or not np.allclose(rot @ rot.T, np.eye(3), atol=1e-9) \
                or np.linalg.det(rot) < 0:
            raise ValueError(f"rotation must be a proper 3x3 rotation matrix, got {rot}")
        super().__init__(n_poses, dtype=grid.dtype, needs_grad=needs_grad)
        self.grid = grid
        self.name = name
        self.n_tris = n_tris
        self.unit_normal = bool(unit_normal)
        self.rotation = rot
        self.rot = ti.Matrix.field(3, 3, self.dtype, shape=())
        self.rot[None] = rot.tolist()

    @classmethod
    def from_mesh(cls, verts, tris, *, spacing: float | None = None, resolution: int = 48,
                  padding: float | None = None, dtype=None, name: str = "mesh",
                  **kw) -> "MeshSDFIndenter":
        """Indenter from a closed triangle mesh (grid options as `SDFGrid.from_mesh`)."""
        verts, tris = orient_closed_surface(verts, tris, name)
        grid = SDFGrid.from_mesh(verts, tris, spacing, resolution, padding, dtype)
        return cls(grid, name=name, n_tris=len(tris), **kw)

    @classmethod
    def from_file(cls, path, scale: float = 1.0, **kw) -> "MeshSDFIndenter":
        """Indenter from an .obj/.stl file; `scale` converts its units to metres."""
        verts, tris = load_triangle_mesh(path, scale)
        return cls.from_mesh(verts, tris, name=Path(path).name, **kw)

    @ti.func
    def _to_local(self, x, t):
        r = self.rot[None]
        return r, r.transpose() @ (x - self.pos[t])

    @ti.func
    def sdf(self, x, t):
        """(signed distance, outward normal) at world point x, pose t."""
        r, p = self._to_local(x, t)
        phi, g = self.grid.sample(p)
        n = g
        if ti.static(self.unit_normal):
            n = g / ti.max(g.norm(), TINY)
        return phi, r @ n

    @ti.func
    def sdf_hessian(self, x, t):
        """d n / d x of exactly the normal `sdf` returns (world frame)."""
        r, p = self._to_local(x, t)
        dn = self.grid.sample_hessian(p)
        if ti.static(self.unit_normal):
            _, g = self.grid.sample(p)
            gn = ti.max(g.norm(), TINY)
            n = g / gn
            dn = (ti.Matrix.identity(self.dtype, 3) - n.outer_product(n)) @ dn / gn
        return r @ dn @ r.transpose()

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "n_tris": self.n_tris,
                "unit_normal": self.unit_normal,
                "grid_shape": list(self.grid.shape), "spacing": self.grid.spacing}

