"""Unstructured, graded tetrahedral meshes of gel pads (gmsh), cached on disk.

`box_pad` meshes a W x L x H box ([-W/2, W/2] x [-L/2, L/2] x [0, H], top face at z = H
where indenters press) with element size `h_contact` within `contact_radius` of the top
centre, growing to `h` over one further `contact_radius`; `dome_pad` meshes a fingertip:
a spherical cap on a cylindrical base, graded finer around the apex. Both check quality
(`mesh.check_quality`) and cache the result: key = hash of the parameters,
`MESHER_VERSION` and the gmsh version; folder `$TACSUITE_CACHE/meshes` (default
`~/.cache/tacsuite/meshes`).

gmsh comes with the `mesh` extra (`pip install tacsuite[mesh]`). Without it these
functions raise ImportError; only `box_pad(..., fallback=True)` falls back to
`structured_box` with cells of about `h_contact` (uniform, so finer everywhere).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from pathlib import Path

import numpy as np

from tacsuite.sim.mesh import TetMesh, check_quality, load_mesh, save_mesh, structured_box

#: Bump whenever the meshing recipe changes, so old cache entries are not reused.
MESHER_VERSION = "1"
_gmsh_lock = threading.Lock()


def cache_dir() -> Path:
    root = os.environ.get("TACSUITE_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "tacsuite"
    return base / "meshes"


def import_gmsh():
    try:
        import gmsh
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("gmsh is needed for unstructured pad meshes; install the mesh "
                          "extra: pip install 'tacsuite[mesh]'") from exc
    return gmsh


def cache_key(kind: str, params: dict) -> str:
    """Hash of the parameters, this module's recipe version and gmsh's version."""
    try:
        gmsh_version = import_gmsh().__version__
    except ImportError:
        gmsh_version = None
    blob = json.dumps({"kind": kind, "params": params, "mesher": MESHER_VERSION,
                       "gmsh": gmsh_version}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def cached(kind: str, params: dict, build, use_cache: bool = True) -> TetMesh:
    """Return the cached mesh for (kind, params) or build, check and store it.

    A cache file that cannot be read (truncated, foreign) is rebuilt and overwritten.
    """
    path = cache_dir() / f"{kind}-{cache_key(kind, params)}.npz"
    if use_cache and path.is_file():
        try:
            mesh = load_mesh(path)
            mesh.meta["cache"] = "hit"
            return mesh
        except ValueError:
            pass  # rebuilt below; the fresh file replaces the corrupt one atomically
    mesh = build()
    if use_cache:
        save_mesh(mesh, path)
    mesh.meta["cache"] = "miss" if use_cache else "off"
    return mesh


def _positive(**kw) -> None:
    for name, value in kw.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")


def box_pad(size=(0.02, 0.02, 0.005), h: float = 1.5e-3, h_contact: float = 5e-4,
            contact_radius: float = 3e-3, *, quarter: bool = False, use_cache: bool = True,
            fallback: bool = False) -> TetMesh:
    """Graded tetrahedral box pad, bottom (z = 0) nodes bonded to the sensor frame.

    `quarter=True` meshes only the x >= 0, y >= 0 quarter [0, W/2] x [0, L/2] x [0, H]
    (contact centre at its corner) for solvers that impose the symmetry planes x = 0
    and y = 0.

    With `fallback=True` and no gmsh installed, returns `structured_box` with cells of
    about `h_contact` (meta["mesher"] == "structured").
    """
    W, L, H = (float(s) for s in size)
    _positive(W=W, L=L, H=H, h=h, h_contact=h_contact, contact_radius=contact_radius)
    if h_contact > h:
        raise ValueError(f"h_contact={h_contact} must not exceed h={h}")
    if h > min(W, L, H) * 2:
        raise ValueError(f"h={h} is larger than twice the pad's smallest side {min(W, L, H)}")
    params = {"size": [W, L, H], "h": h, "h_contact": h_contact,
              "contact_radius": contact_radius, "quarter": bool(quarter)}
    try:
        import_gmsh()
    except ImportError:
        if not fallback:
            raise
        if quarter:
            raise
        cells = tuple(max(1, round(s / h_contact)) for s in (W, L, H))
        return structured_box((W, L, H), cells)
    x0, y0, wx, wy = (0.0, 0.0, W / 2, L / 2) if quarter else (-W / 2, -L / 2, W, L)

    def build():
        mesh = _gmsh_mesh(lambda g: g.model.occ.addBox(x0, y0, 0.0, wx, wy, H),
                          (0.0, 0.0, H), h, h_contact, contact_radius)
        mesh.meta.update({"mesher": "gmsh", "kind": "box_pad", **params})
        return mesh

    return cached("box_pad", params, build, use_cache)


def dome_pad(radius: float = 0.012, cap_height: float = 0.004, base_height: float = 0.003,
             h: float = 1.5e-3, h_contact: float = 6e-4, contact_radius: float = 3e-3, *,
             use_cache: bool = True) -> TetMesh:
    """Domed fingertip: a spherical cap (sphere `radius`, height `cap_height`) on a
    cylinder of the cap's footprint radius and height `base_height`; bottom at z = 0,
    apex at z = base_height + cap_height, graded finer around the apex."""
    R, c, b = float(radius), float(cap_height), float(base_height)
    _positive(radius=R, cap_height=c, base_height=b, h=h, h_contact=h_contact,
              contact_radius=contact_radius)
    if c > R:
        raise ValueError(f"cap_height={c} must not exceed radius={R} (at most a hemisphere)")
    if h_contact > h:
        raise ValueError(f"h_contact={h_contact} must not exceed h={h}")
    a = math.sqrt(c * (2 * R - c))
    params = {"radius": R, "cap_height": c, "base_height": b, "h": h,
              "h_contact": h_contact, "contact_radius": contact_radius}
    import_gmsh()

    def geometry(g):
        occ = g.model.occ
        ball = occ.addSphere(0.0, 0.0, b + c - R, R)
        half = occ.addBox(-2 * R, -2 * R, b, 4 * R, 4 * R, 2 * R + c)
        cap, _ = occ.intersect([(3, ball)], [(3, half)])
        base = occ.addCylinder(0.0, 0.0, 0.0, 0.0, 0.0, b, a)
        out, _ = occ.fuse([(3, base)], cap)
        return out[0][1]

    def build():
        mesh = _gmsh_mesh(geometry, (0.0, 0.0, b + c), h, h_contact, contact_radius)
        mesh.meta.update({"mesher": "gmsh", "kind": "dome_pad", "footprint_radius": a,
                          **params})
        return mesh

    return cached("dome_pad", params, build, use_cache)


def _gmsh_mesh(geometry, focus, h, h_contact, contact_radius) -> TetMesh:
    """Mesh one OCC volume made by `geometry(gmsh)`, sized by distance to `focus`."""
    gmsh = import_gmsh()
    with _gmsh_lock:  # gmsh keeps one global model per process
        gmsh.initialize(interruptible=False)
        try:
            gmsh.option.setNumber("General.Terminal", 0)
            gmsh.option.setNumber("General.NumThreads", 1)
            gmsh.option.setNumber("Mesh.RandomSeed", 1)
            gmsh.model.add("pad")
            geometry(gmsh)
            gmsh.model.occ.synchronize()
            pt = gmsh.model.occ.addPoint(*focus)
            gmsh.model.occ.synchronize()
            f = gmsh.model.mesh.field
            dist = f.add("Distance")
            f.setNumbers(dist, "PointsList", [pt])
            thr = f.add("Threshold")
            f.setNumber(thr, "InField", dist)
            f.setNumber(thr, "SizeMin", h_contact)
            f.setNumber(thr, "SizeMax", h)
            f.setNumber(thr, "DistMin", contact_radius)
            f.setNumber(thr, "DistMax", 2 * contact_radius + h)
            f.setAsBackgroundMesh(thr)
            for name, value in (("Mesh.MeshSizeExtendFromBoundary", 0),
                                ("Mesh.MeshSizeFromPoints", 0),
                                ("Mesh.MeshSizeFromCurvature", 0),
                                ("Mesh.Algorithm3D", 1), ("Mesh.Optimize", 1),
                                ("Mesh.OptimizeNetgen", 1)):
                gmsh.option.setNumber(name, value)
            gmsh.model.mesh.generate(3)
            tags, coords, _ = gmsh.model.mesh.getNodes()
            _, elem_nodes = gmsh.model.mesh.getElementsByType(4)
        finally:
            gmsh.finalize()
    points = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    lookup = np.full(int(tags.max()) + 1, -1, dtype=np.int64)
    lookup[tags] = np.arange(len(tags))
    tets = lookup[np.asarray(elem_nodes, dtype=np.int64).reshape(-1, 4)]
    used = np.unique(tets)  # the focus point and other geometry-only nodes are dropped
    remap = np.full(len(points), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    points, tets = points[used], remap[tets]
    x = points[tets]
    vol = np.einsum("ij,ij->i", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]),
                    x[:, 3] - x[:, 0])
    tets[vol < 0] = tets[vol < 0][:, [0, 2, 1, 3]]
    mesh = TetMesh(points, tets)
    q = check_quality(mesh)
    mesh.meta["quality"] = q.as_dict()
    return mesh
