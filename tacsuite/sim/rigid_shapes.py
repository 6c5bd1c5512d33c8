"""Geometry of rigid bodies: signed distance, mass properties and contact sample points.

Every shape is described in its body frame, whose origin is the centre of mass and whose
axes are the principal axes of inertia, so that the dynamics need only the three principal
moments. A shape provides

- ``local_sdf(p) -> (phi, n)`` (a Taichi func): signed distance (m, negative inside) of the
  body-frame point p and the outward normal there. Analytic primitives reuse the tested
  indenter SDFs of `tacsuite.sim.indenters`; a triangle mesh reuses `sdf_grid.SDFGrid`;
- ``volume`` (m^3) and ``inertia_per_mass`` (principal moments divided by the mass, m^2);
- ``points`` (N, 3) and ``areas`` (N,): contact sample points on the surface and the
  surface area each stands for (they sum to the surface area), used when this body's
  surface touches another body's signed distance (the ground, another rigid body);
- for meshes, ``mesh_to_body``: the fixed transform from the file's frame to the body frame.
"""

from __future__ import annotations

import math

import numpy as np

from tacsuite.sim import indenters
from tacsuite.sim.backend import ensure_init, import_taichi

ti = import_taichi()

KINDS = ("box", "sphere", "capsule", "cylinder", "mesh")


def _positive(name: str, v) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {v!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a positive number, got {v!r}")
    return v


def _grid_face(center, u, v, hu, hv, spacing):
    """Nodes of a regular grid on the rectangle center + s u + t v, |s|<=hu, |t|<=hv, with
    trapezoid area weights (corner 1/4, edge 1/2 of a cell), so the weights sum to its area."""
    nu = max(1, math.ceil(2 * hu / spacing))
    nv = max(1, math.ceil(2 * hv / spacing))
    s = np.linspace(-hu, hu, nu + 1)
    t = np.linspace(-hv, hv, nv + 1)
    ws = np.full(nu + 1, 2 * hu / nu)
    ws[[0, -1]] *= 0.5
    wt = np.full(nv + 1, 2 * hv / nv)
    wt[[0, -1]] *= 0.5
    S, T = np.meshgrid(s, t, indexing="ij")
    pts = center + S.reshape(-1, 1) * u + T.reshape(-1, 1) * v
    return pts, np.outer(ws, wt).reshape(-1)


def _merge(points, areas, tol):
    """Weld coincident points (shared box edges), summing their areas."""
    key = np.round(points / tol).astype(np.int64)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    out = np.zeros(len(first))
    np.add.at(out, inv.reshape(-1), areas)
    return points[first], out


def _fibonacci_sphere(n: int) -> np.ndarray:
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = math.pi * (1 + 5**0.5) * k
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], 1)


def _rings(radius, z_values, spacing):
    n = max(8, math.ceil(2 * math.pi * radius / spacing))
    a = 2 * math.pi * np.arange(n) / n
    return np.concatenate([np.stack([radius * np.cos(a), radius * np.sin(a),
                                     np.full(n, z)], 1) for z in z_values])


def _disc(radius, z, spacing):
    pts = [np.array([[0.0, 0.0, z]])]
    for r in np.linspace(0, radius, max(1, math.ceil(radius / spacing)) + 1)[1:]:
        pts.append(_rings(r, [z], spacing))
    return np.concatenate(pts)


class Shape:
    kind = "shape"

    def __init__(self, sdf_obj, volume, inertia_per_mass, points, areas, area_total=None):
        self.sdf_obj = sdf_obj
        self.volume = float(volume)
        self.inertia_per_mass = np.asarray(inertia_per_mass, float)
        self.points = np.asarray(points, float)
        areas = np.asarray(areas, float)
        if area_total is not None:             # uniform share of the exact surface area
            areas = np.full(len(self.points), area_total / len(self.points))
        self.areas = areas
        self.radius = float(np.max(np.linalg.norm(self.points, axis=1)))
        self.dtype = sdf_obj.dtype

    def describe(self) -> dict:
        return {"kind": self.kind, "n_points": len(self.points)}


@ti.data_oriented
class BoxShape(Shape):
    kind = "box"

    def __init__(self, half_extents, spacing=None, dtype=None):
        he = np.asarray(half_extents, float).reshape(-1)
        if he.shape != (3,):
            raise ValueError(f"half_extents must be three lengths, got {half_extents!r}")
        he = np.array([_positive("half_extents", v) for v in he])
        self.half_extents = he
        h = float(spacing) if spacing else float(he.min())
        pts, ar = [], []
        for k in range(3):
            i, j = (k + 1) % 3, (k + 2) % 3
            for sign in (-1.0, 1.0):
                c = np.zeros(3)
                c[k] = sign * he[k]
                p, a = _grid_face(c, np.eye(3)[i], np.eye(3)[j], he[i], he[j], h)
                pts.append(p)
                ar.append(a)
        p, a = _merge(np.concatenate(pts), np.concatenate(ar), 1e-9 * he.max())
        a2 = he * he
        super().__init__(indenters.Box(he, dtype=dtype), 8 * he.prod(),
                         [(a2[1] + a2[2]) / 3, (a2[0] + a2[2]) / 3, (a2[0] + a2[1]) / 3],
                         p, a)

    @ti.func
    def local_sdf(self, p):
        return self.sdf_obj.local_sdf(p)

    def describe(self) -> dict:
        return {**super().describe(), "half_extents": self.half_extents.tolist()}


@ti.data_oriented
class SphereShape(Shape):
    kind = "sphere"

    def __init__(self, radius, spacing=None, dtype=None):
        r = _positive("radius", radius)
        h = float(spacing) if spacing else r / 3
        n = max(12, math.ceil(4 * math.pi * r * r / (h * h)))
        super().__init__(indenters.Sphere(r, dtype=dtype), 4 / 3 * math.pi * r**3,
                         [0.4 * r * r] * 3, r * _fibonacci_sphere(n), None,
                         area_total=4 * math.pi * r * r)
        self.r = r

    @ti.func
    def local_sdf(self, p):
        return self.sdf_obj.local_sdf(p)

    def describe(self) -> dict:
        return {**super().describe(), "radius": self.r}


@ti.data_oriented
class CylinderShape(Shape):
    """Flat-ended cylinder, axis e_z, radius r, length 2 half_height."""

    kind = "cylinder"

    def __init__(self, radius, half_height, spacing=None, dtype=None):
        r, hh = _positive("radius", radius), _positive("half_height", half_height)
        h = float(spacing) if spacing else min(r, hh) / 2
        zs = np.linspace(-hh, hh, max(1, math.ceil(2 * hh / h)) + 1)
        pts = np.concatenate([_rings(r, zs, h), _disc(r, -hh, h), _disc(r, hh, h)])
        ix = r * r / 4 + hh * hh / 3
        super().__init__(indenters.Cylinder(r, hh, dtype=dtype), math.pi * r * r * 2 * hh,
                         [ix, ix, r * r / 2], pts, None,
                         area_total=2 * math.pi * r * (r + 2 * hh))
        self.r, self.hh = r, hh

    @ti.func
    def local_sdf(self, p):
        return self.sdf_obj.local_sdf(p)

    def describe(self) -> dict:
        return {**super().describe(), "radius": self.r, "half_height": self.hh}


@ti.data_oriented
class CapsuleShape(Shape):
    """Segment of length 2 half_length along e_z swept by a sphere of radius r."""

    kind = "capsule"

    def __init__(self, radius, half_length, spacing=None, dtype=None):
        r, hl = _positive("radius", radius), _positive("half_length", half_length)
        h = float(spacing) if spacing else r / 2
        zs = np.linspace(-hl, hl, max(1, math.ceil(2 * hl / h)) + 1)
        n = max(12, math.ceil(4 * math.pi * r * r / (h * h)))
        cap = r * _fibonacci_sphere(n)
        cap[:, 2] += np.where(cap[:, 2] >= 0, hl, -hl)
        pts = np.concatenate([_rings(r, zs, h), cap])
        vc, vs = math.pi * r * r * 2 * hl, 4 / 3 * math.pi * r**3
        ix = (vc * (r * r / 4 + hl * hl / 3)
              + vs * (0.4 * r * r + hl * hl + 0.75 * hl * r)) / (vc + vs)
        iz = (vc * r * r / 2 + vs * 0.4 * r * r) / (vc + vs)
        super().__init__(indenters.Capsule(r, hl, dtype=dtype), vc + vs, [ix, ix, iz], pts,
                         None, area_total=4 * math.pi * r * r + 2 * math.pi * r * 2 * hl)
        self.r, self.hl = r, hl

    @ti.func
    def local_sdf(self, p):
        return self.sdf_obj.local_sdf(p)

    def describe(self) -> dict:
        return {**super().describe(), "radius": self.r, "half_length": self.hl}


def mesh_mass_properties(verts, tris):
    """Volume, centre of mass and inertia tensor per unit mass of a closed mesh (uniform
    density), by the divergence theorem over the tetrahedra (origin, triangle)."""
    a, b, c = (verts[tris[:, k]] for k in range(3))
    vol6 = np.einsum("ij,ij->i", a, np.cross(b, c))
    V = vol6.sum() / 6.0
    com = (vol6[:, None] * (a + b + c)).sum(0) / (24.0 * V)
    # Second moment of each tet with a vertex at the origin: (vol/20)(sum x x^T + s s^T).
    s = a + b + c
    C = (vol6[:, None, None] / 120.0 * (np.einsum("ni,nj->nij", a, a)
                                        + np.einsum("ni,nj->nij", b, b)
                                        + np.einsum("ni,nj->nij", c, c)
                                        + np.einsum("ni,nj->nij", s, s))).sum(0)
    C = C / V - np.outer(com, com)                   # covariance per unit mass about com
    inertia = np.trace(C) * np.eye(3) - C
    return V, com, inertia


@ti.data_oriented
class MeshShape(Shape):
    """Closed triangle mesh; the body frame is its principal frame at the centre of mass.

    `mesh_to_body = (Rm, c)`: a point y in the file's frame has body coordinates
    Rm^T (y - c) (c the centre of mass, columns of Rm the principal axes).
    """

    kind = "mesh"

    def __init__(self, verts, tris, spacing=None, resolution: int = 40, dtype=None,
                 name: str = "mesh"):
        from tacsuite.sim.sdf_grid import SDFGrid, orient_closed_surface

        ensure_init()
        verts, tris = orient_closed_surface(verts, tris, name)
        V, com, inertia = mesh_mass_properties(verts, tris)
        w, Rm = np.linalg.eigh(inertia)
        if np.linalg.det(Rm) < 0:
            Rm[:, 2] *= -1
        self.Rm, self.com, self.name, self.n_tris = Rm, com, name, len(tris)
        body = (verts - com) @ Rm
        grid = SDFGrid.from_mesh(body, tris, spacing=spacing, resolution=resolution,
                                 dtype=dtype or ti.f32)
        self.grid = grid
        # Vertices, edge midpoints and triangle centroids, each with a share of the area.
        ab, bc, ca = (body[tris[:, [i, j]]].mean(1) for i, j in ((0, 1), (1, 2), (2, 0)))
        pts = np.concatenate([body, ab, bc, ca, body[tris].mean(1)])
        p = body[tris]
        area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), 1).sum()
        pts, _ = _merge(pts, np.zeros(len(pts)), 1e-9 * np.ptp(body))
        super().__init__(grid, V, w, pts, None, area_total=area)

    @ti.func
    def local_sdf(self, p):
        phi, g = self.grid.sample(p)
        return phi, g / ti.max(g.norm(), 1e-12)

    def describe(self) -> dict:
        return {**super().describe(), "name": self.name, "n_tris": self.n_tris,
                "grid_shape": list(self.grid.shape)}


def make_shape(kind: str, dtype=None, spacing=None, **size) -> Shape:
    """Shape by name with its size keywords (see each class); mesh needs `file` or
    `verts`/`tris` (and optional `scale`, m per file unit)."""
    ensure_init()
    allowed = {"box": ("half_extents",), "sphere": ("radius",),
               "cylinder": ("radius", "half_height"), "capsule": ("radius", "half_length"),
               "mesh": ("file", "scale", "verts", "tris", "resolution")}
    if kind not in allowed:
        raise ValueError(f"unknown shape {kind!r}; choose one of {KINDS}")
    extra = set(size) - set(allowed[kind])
    if extra:
        raise ValueError(f"shape {kind!r} takes {allowed[kind]}, not {sorted(extra)}")
    try:
        if kind == "box":
            return BoxShape(size["half_extents"], spacing, dtype)
        if kind == "sphere":
            return SphereShape(size["radius"], spacing, dtype)
        if kind == "cylinder":
            return CylinderShape(size["radius"], size["half_height"], spacing, dtype)
        if kind == "capsule":
            return CapsuleShape(size["radius"], size["half_length"], spacing, dtype)
    except KeyError as exc:
        raise ValueError(f"shape {kind!r} needs {allowed[kind]}; missing {exc}") from None
    if "file" in size:
        from tacsuite.sim.sdf_grid import load_triangle_mesh

        verts, tris = load_triangle_mesh(size["file"], float(size.get("scale", 1.0)))
        name = str(size["file"])
    elif "verts" in size and "tris" in size:
        verts = np.asarray(size["verts"], float) * float(size.get("scale", 1.0))
        tris, name = np.asarray(size["tris"]), "mesh"
    else:
        raise ValueError("shape 'mesh' needs 'file' (an .obj/.stl path) or 'verts' and 'tris'")
    return MeshShape(verts, tris, spacing, int(size.get("resolution", 40)), dtype, name)
