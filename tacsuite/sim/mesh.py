"""Tetrahedral meshes of gel pads: the data structure every simulator part shares.

`TetMesh` holds nodes in metres and positively oriented tetrahedra (det[x1-x0, x2-x0,
x3-x0] > 0), plus the boundary pieces contact and boundary conditions need.
`structured_box` is a dependency-free mesher (each grid cell split into six tetrahedra
along its main diagonal, a conforming Freudenthal split), used in tests and as the
fallback when no unstructured mesher is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TetMesh:
    points: np.ndarray          # (N, 3) float64, metres
    tets: np.ndarray            # (M, 4) int32, positively oriented
    surface_tris: np.ndarray = field(default=None)  # (K, 3) int32, outward normals
    bottom_nodes: np.ndarray = field(default=None)  # nodes bonded to the sensor frame
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.points = np.ascontiguousarray(self.points, dtype=np.float64)
        self.tets = np.ascontiguousarray(self.tets, dtype=np.int32)
        if self.points.ndim != 2 or self.points.shape[1] != 3:
            raise ValueError(f"points must have shape (N, 3), got {self.points.shape}")
        if self.tets.ndim != 2 or self.tets.shape[1] != 4:
            raise ValueError(f"tets must have shape (M, 4), got {self.tets.shape}")
        if self.tets.size and (self.tets.min() < 0 or self.tets.max() >= len(self.points)):
            raise ValueError("tets index nodes that do not exist")
        vol = self.volumes()
        if np.any(vol <= 0):
            raise ValueError(f"{int(np.sum(vol <= 0))} tetrahedra are inverted or degenerate")
        if self.surface_tris is None:
            self.surface_tris = boundary_triangles(self.tets, self.points)
        self.surface_tris = np.ascontiguousarray(self.surface_tris, dtype=np.int32)
        if self.bottom_nodes is None:
            z = self.points[:, 2]
            self.bottom_nodes = np.flatnonzero(z <= z.min() + 1e-9 * max(np.ptp(z), 1e-12))
        self.bottom_nodes = np.ascontiguousarray(self.bottom_nodes, dtype=np.int32)

    @property
    def n_nodes(self) -> int:
        return len(self.points)

    @property
    def n_tets(self) -> int:
        return len(self.tets)

    @property
    def surface_nodes(self) -> np.ndarray:
        return np.unique(self.surface_tris)

    def volumes(self) -> np.ndarray:
        x = self.points[self.tets]
        return np.einsum("ij,ij->i", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]),
                         x[:, 3] - x[:, 0]) / 6.0


def boundary_triangles(tets: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Faces that belong to exactly one tetrahedron, oriented with outward normals."""
    faces = np.concatenate([tets[:, [1, 2, 3]], tets[:, [0, 3, 2]], tets[:, [0, 1, 3]],
                            tets[:, [0, 2, 1]]])
    opposite = np.concatenate([tets[:, 0], tets[:, 1], tets[:, 2], tets[:, 3]])
    key = np.sort(faces, axis=1)
    _, idx, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    keep = idx[counts == 1]
    tri, opp = faces[keep], opposite[keep]
    p = points
    n = np.cross(p[tri[:, 1]] - p[tri[:, 0]], p[tri[:, 2]] - p[tri[:, 0]])
    inward = np.einsum("ij,ij->i", n, p[opp] - p[tri[:, 0]]) > 0
    tri[inward] = tri[inward][:, [0, 2, 1]]
    return tri.astype(np.int32)


def structured_box(size=(0.02, 0.02, 0.005), cells=(8, 8, 2)) -> TetMesh:
    """Box [-W/2, W/2] x [-L/2, L/2] x [0, H] split into 6 tetrahedra per grid cell."""
    W, L, H = (float(s) for s in size)
    nx, ny, nz = (int(c) for c in cells)
    if min(W, L, H) <= 0 or min(nx, ny, nz) < 1:
        raise ValueError(f"need positive size and cells, got size={size}, cells={cells}")
    xs = np.linspace(-W / 2, W / 2, nx + 1)
    ys = np.linspace(-L / 2, L / 2, ny + 1)
    zs = np.linspace(0.0, H, nz + 1)
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    points = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)

    def nid(i, j, k):
        return (i * (ny + 1) + j) * (nz + 1) + k

    i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    i, j, k = i.ravel(), j.ravel(), k.ravel()
    corner = [nid(i + (c >> 0 & 1), j + (c >> 1 & 1), k + (c >> 2 & 1)) for c in range(8)]
    # Six tets around the diagonal 0-7, one per permutation of the axis order.
    paths = [(1, 3), (1, 5), (2, 3), (2, 6), (4, 5), (4, 6)]
    tets = np.concatenate([np.stack([corner[0], corner[a], corner[b], corner[7]], 1)
                           for a, b in paths])
    x = points[tets]
    vol = np.einsum("ij,ij->i", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), x[:, 3] - x[:, 0])
    tets[vol < 0] = tets[vol < 0][:, [0, 2, 1, 3]]
    return TetMesh(points, tets, meta={"mesher": "structured", "size": (W, L, H),
                                       "cells": (nx, ny, nz)})


# --- quality ------------------------------------------------------------------------------

#: Default acceptance thresholds. A tetrahedron with a dihedral angle near 0 (a sliver or a
#: needle) has a near-singular shape matrix: its stiffness blows up, the explicit CFL step
#: collapses and contact forces jitter. 5 degrees and a normalised volume of 0.05 reject
#: those while accepting what gmsh and the structured split produce.
MIN_DIHEDRAL_DEG = 5.0
MIN_SHAPE_QUALITY = 0.05


@dataclass(frozen=True)
class MeshQuality:
    """Per-mesh quality figures of a tetrahedral mesh.

    shape quality is the normalised volume 6 sqrt(2) V / l_rms^3 (1 for a regular tet,
    0 for a flat one); aspect ratio is the longest edge over (2 sqrt(6) x inradius)
    (1 for a regular tet); volume_ratio is the smallest over the largest tet volume
    (how strongly the mesh is graded).
    """

    n_nodes: int
    n_tets: int
    n_surface_tris: int
    min_dihedral_deg: float
    max_dihedral_deg: float
    min_shape_quality: float
    mean_shape_quality: float
    max_aspect_ratio: float
    volume_ratio: float
    total_volume: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def tet_dihedral_angles(points: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """(M, 6) interior dihedral angles in degrees, one per edge."""
    x = points[tets]
    # Face i is opposite vertex i; outward normals from the face cross products.
    faces = [(1, 2, 3), (0, 3, 2), (0, 1, 3), (0, 2, 1)]
    normals = []
    for a, b, c in faces:
        n = np.cross(x[:, b] - x[:, a], x[:, c] - x[:, a])
        normals.append(n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300))
    out = []
    for i in range(4):
        for j in range(i + 1, 4):
            cosang = -np.einsum("ij,ij->i", normals[i], normals[j])
            out.append(np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0))))
    return np.stack(out, axis=1)


def mesh_quality(mesh: TetMesh) -> MeshQuality:
    p, t = mesh.points, mesh.tets
    vol = mesh.volumes()
    x = p[t]
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    edges = np.stack([np.linalg.norm(x[:, i] - x[:, j], axis=1) for i, j in pairs], axis=1)
    l_rms = np.sqrt(np.mean(edges**2, axis=1))
    shape = 6.0 * np.sqrt(2.0) * vol / l_rms**3
    area = sum(0.5 * np.linalg.norm(np.cross(x[:, b] - x[:, a], x[:, c] - x[:, a]), axis=1)
               for a, b, c in [(1, 2, 3), (0, 3, 2), (0, 1, 3), (0, 2, 1)])
    inradius = 3.0 * vol / area
    aspect = edges.max(axis=1) / (2.0 * np.sqrt(6.0) * inradius)
    dih = tet_dihedral_angles(p, t)
    return MeshQuality(
        n_nodes=mesh.n_nodes, n_tets=mesh.n_tets, n_surface_tris=len(mesh.surface_tris),
        min_dihedral_deg=float(dih.min()), max_dihedral_deg=float(dih.max()),
        min_shape_quality=float(shape.min()), mean_shape_quality=float(shape.mean()),
        max_aspect_ratio=float(aspect.max()), volume_ratio=float(vol.min() / vol.max()),
        total_volume=float(vol.sum()))


def check_quality(mesh: TetMesh, min_dihedral_deg: float = MIN_DIHEDRAL_DEG,
                  min_shape_quality: float = MIN_SHAPE_QUALITY) -> MeshQuality:
    """Return the mesh's quality, or raise ValueError naming the failed threshold."""
    q = mesh_quality(mesh)
    problems = []
    if q.min_dihedral_deg < min_dihedral_deg:
        problems.append(f"min dihedral angle {q.min_dihedral_deg:.2f} deg < "
                        f"{min_dihedral_deg} deg")
    if q.min_shape_quality < min_shape_quality:
        problems.append(f"min shape quality {q.min_shape_quality:.4f} < {min_shape_quality}")
    if problems:
        raise ValueError("mesh rejected (sliver elements): " + "; ".join(problems)
                         + f" over {q.n_tets} tets; refine the mesh or relax the thresholds")
    return q


# --- persistence --------------------------------------------------------------------------

def save_mesh(mesh: TetMesh, path) -> None:
    """Write the mesh atomically as .npz (meta as JSON text)."""
    import io
    import json

    from tacsuite.common.atomic import to_jsonable, write_bytes

    buf = io.BytesIO()
    np.savez(buf, points=mesh.points, tets=mesh.tets, surface_tris=mesh.surface_tris,
             bottom_nodes=mesh.bottom_nodes, meta=np.array(json.dumps(to_jsonable(mesh.meta))))
    write_bytes(path, buf.getvalue())


def load_mesh(path) -> TetMesh:
    """Read a mesh written by `save_mesh`; ValueError names the file if it is corrupt."""
    import json
    import zipfile
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such mesh file: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("points", "tets", "surface_tris", "bottom_nodes")}
            meta = json.loads(str(z["meta"]))
        return TetMesh(**arrays, meta=meta)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"corrupt mesh file {path}: {exc}") from exc
