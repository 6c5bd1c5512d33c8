"""The quasi-static press experiment: an indenter pushed into the centre of a box pad.

`press(...)` builds a pad graded finer under the indenter (quarter model with symmetry
planes x = 0 and y = 0 when the indenter is centred), steps the indenter down to each
requested depth with Newton-PCG, and returns the normal force, a contact radius and,
on request, adjoint gradients of the force with respect to E, nu, depth and kn.

Contact radius: the radius of the Hertz pressure profile with the same second moment of
the contact pressure, a = sqrt(5/2 sum F_i r_i^2 / sum F_i); it equals sqrt(R d) for an
ideal Hertz contact and changes smoothly with the load (a flat punch of radius a reads
1.29 a).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tacsuite.sim import material
from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.friction_statics import FrictionalQuasiStaticGel
from tacsuite.sim.indenters import make_indenter
from tacsuite.sim.mesh import TetMesh, structured_box
from tacsuite.sim.statics import QuasiStaticGel

ti = import_taichi()

GRAD_NAMES = ("E", "nu", "depth", "kn")


def graded_axis(length: float, h_fine: float, fine: float, growth: float) -> np.ndarray:
    """Nodes 0..length: spacing h_fine up to `fine`, then growing geometrically."""
    if not (length > 0 and h_fine > 0 and growth >= 1.0):
        raise ValueError(f"bad grading length={length}, h_fine={h_fine}, growth={growth}")
    fine = min(max(fine, h_fine), length)
    n_fine = max(int(np.ceil(fine / h_fine - 1e-9)), 1)
    xs = list(np.linspace(0.0, n_fine * h_fine, n_fine + 1))
    if xs[-1] >= length:
        return np.linspace(0.0, length, max(int(np.ceil(length / h_fine - 1e-9)), 1) + 1)
    h = h_fine
    while xs[-1] < length:
        h *= growth
        xs.append(xs[-1] + h)
    xs = np.asarray(xs)
    # Stretch the graded part so the last node lands on `length`.
    start = n_fine * h_fine
    xs[n_fine:] = start + (xs[n_fine:] - start) * (length - start) / (xs[-1] - start)
    return xs


def graded_quarter_pad(size, h_fine: float, fine: float, growth: float = 1.35) -> TetMesh:
    """Quarter [0, W/2] x [0, L/2] x [0, H] of a pad, fine near (0, 0, H)."""
    W, L, H = (float(s) for s in size)
    ax = graded_axis(W / 2, h_fine, fine, growth)
    ay = graded_axis(L / 2, h_fine, fine, growth)
    az = H - graded_axis(H, h_fine, fine, growth)[::-1]
    box = structured_box((1.0, 1.0, 1.0), (len(ax) - 1, len(ay) - 1, len(az) - 1))
    p = box.points

    def remap(v, nodes):
        u = np.linspace(v.min(), v.max(), len(nodes))
        return np.interp(v, u, nodes)

    pts = np.stack([remap(p[:, 0], ax), remap(p[:, 1], ay), remap(p[:, 2], az)], axis=1)
    return TetMesh(pts, box.tets, meta={"mesher": "graded-structured", "size": (W, L, H),
                                        "h_fine": h_fine, "quarter": True})


@dataclass
class PressResult:
    depths: list
    forces: list
    contact_radii: list
    grad: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def force(self) -> float:
        return self.forces[-1]

    @property
    def contact_radius(self) -> float:
        return self.contact_radii[-1]


def mesh_indenter(path, scale: float, depth: float, dtype):
    """(indenter, height of its origin above its lowest point, contact size) from a file.

    Contact size: the radius of the mesh's cross-section `depth` above its lowest point,
    over sqrt(2) (exactly the Hertz contact radius for a paraboloid; smaller, so a finer
    default mesh, for blunter shapes).
    """
    from scipy.spatial import cKDTree

    from tacsuite.sim.sdf_grid import MeshSDFIndenter, load_triangle_mesh

    verts, tris = load_triangle_mesh(path, scale)
    span = np.ptp(verts, axis=0).max()
    for axis in (0, 1):
        mirrored = verts.copy()
        mirrored[:, axis] *= -1
        gap = float(cKDTree(verts).query(mirrored)[0].max())
        if gap > 1e-6 * span:
            raise ValueError(f"{path}: the press solves a quarter model, so the mesh must be "
                             f"mirror-symmetric about its {'xy'[axis]} = 0 plane (a vertex "
                             f"has no mirror image within {gap:.3g} m)")
    zmin = float(verts[:, 2].min())
    z0 = zmin + depth
    if z0 >= verts[:, 2].max():
        raise ValueError(f"{path}: depth {depth} m is beyond the mesh height "
                         f"{np.ptp(verts[:, 2]):.3g} m")
    edges = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    a, b = verts[edges[:, 0]], verts[edges[:, 1]]
    cross = (a[:, 2] - z0) * (b[:, 2] - z0) <= 0
    t = (z0 - a[cross, 2]) / np.where(b[cross, 2] != a[cross, 2], b[cross, 2] - a[cross, 2], 1)
    p = a[cross] + t[:, None] * (b[cross] - a[cross])
    footprint = float(np.max(np.hypot(p[:, 0], p[:, 1]))) if len(p) else 0.0
    if not footprint > 0:
        raise ValueError(f"{path}: no cross-section found {depth} m above the lowest point")
    ind = MeshSDFIndenter.from_file(path, scale, resolution=64, dtype=dtype)
    return ind, -zmin, footprint / np.sqrt(2.0)


def default_mesh_size(indenter: str, radius: float, depth: float) -> float:
    a = np.sqrt(radius * depth) if indenter == "sphere" else radius
    return a / 5.0


def press(indenter: str = "sphere", radius: float = 5e-3, depth: float = 2e-4,
          E: float = 1e5, nu: float = 0.3, pad=(0.04, 0.04, 0.02), mesh_size: float | None = None,
          kn: float | None = None, steps: int = 4, grad=(), dtype=None, growth: float = 1.35,
          solver: QuasiStaticGel | None = None, friction: float = 0.0,
          kt: float | None = None, mesh_file=None, mesh_scale: float = 1.0) -> PressResult:
    """Press `indenter` to `depth` (m) into the centre of the top face of `pad` (W, L, H).

    kn: contact stiffness in Pa/m; default 100 E / mesh_size, so the penalty gap stays
    about 1 % of the depth. Gradients are total derivatives with that default
    (dF/dE includes dkn/dE). `steps` depths are solved, equally spaced up to `depth`.
    Pass an existing `solver` (from a previous call with the same mesh) to skip set-up
    (and Taichi's compilation of its kernels); a solver built with friction also runs
    frictionless presses (friction=0), through the same code as `QuasiStaticGel`.

    indenter "mesh": a closed triangle mesh read from `mesh_file` (.obj/.stl, coordinates
    times `mesh_scale` in metres) through `sdf_grid.MeshSDFIndenter`; its lowest point
    touches the pad first, and it must be mirror-symmetric about its x = 0 and y = 0
    planes (the press solves a quarter model). `radius` is then unused: the contact size
    that sets the default mesh size is taken from the mesh's cross-section at `depth`.

    friction: Coulomb coefficient between indenter and gel (0: frictionless, the same
    solver as before). With friction > 0 each step is solved to a stick/slip fixed point
    (`friction_statics`), with a tangential penalty kt (default kn); the load history
    matters, so `steps` is also the friction loading resolution. Gradients are not
    available with friction (the adjoint through the return mapping and the anchor
    history is not implemented) and asking for them raises ValueError.
    """
    ensure_init()
    for name, v in (("radius", radius), ("depth", depth), ("E", E)):
        if not (v > 0 and np.isfinite(v)):
            raise ValueError(f"{name} must be positive and finite, got {v!r}")
    pad = tuple(float(v) for v in pad)
    if len(pad) != 3 or min(pad) <= 0:
        raise ValueError(f"pad must be three positive sizes W,L,H in metres, got {pad}")
    if depth >= pad[2] / 2:
        raise ValueError(f"depth {depth} m must be below half the pad thickness {pad[2]} m")
    unknown = set(grad) - set(GRAD_NAMES)
    if unknown:
        raise ValueError(f"unknown gradient parameter(s) {sorted(unknown)}; choose from "
                         f"{GRAD_NAMES}")
    if not (friction >= 0 and np.isfinite(friction)):
        raise ValueError(f"friction must be a finite coefficient >= 0, got {friction!r}")
    if friction > 0 and grad:
        raise ValueError(f"gradients {tuple(grad)} are not available with friction={friction}: "
                         "the adjoint through the stick/slip return mapping is not implemented")
    dtype = dtype or ti.f64
    lift, mesh_ind = radius, None
    if indenter == "mesh":
        if mesh_file is None:
            raise ValueError("indenter 'mesh' needs a mesh file (.obj or .stl)")
        if solver is None:
            mesh_ind, lift, a_est = mesh_indenter(mesh_file, mesh_scale, depth, dtype)
        else:
            mesh_ind, lift, a_est = solver.indenter, solver.lift, solver.a_est
        radius = a_est          # the contact size: default mesh size and fine region
    h = float(mesh_size or default_mesh_size(indenter, radius, depth))
    if not h > 0:
        raise ValueError(f"mesh_size must be positive, got {mesh_size!r}")
    auto_kn = kn is None
    kn_val = 100.0 * E / h if auto_kn else float(kn)
    if solver is None:
        fine = 1.5 * (np.sqrt(radius * depth) if indenter == "sphere" else radius)
        mesh = graded_quarter_pad(pad, h, fine, growth)
        ind = mesh_ind or make_indenter(indenter, radius, dtype=dtype)
        if friction > 0:
            solver = FrictionalQuasiStaticGel(mesh, E, nu, kn_val, ind, friction, kt=kt,
                                              dtype=dtype, symmetry_planes=(0, 1))
        else:
            solver = QuasiStaticGel(mesh, E, nu, kn_val, ind, dtype=dtype,
                                    symmetry_planes=(0, 1))
        solver.h_mesh = h
        solver.lift, solver.a_est = lift, radius
    else:
        solver.set_material(E, nu)
        solver.set_contact(kn_val)
        if friction > 0 and not isinstance(solver, FrictionalQuasiStaticGel):
            raise ValueError("friction > 0 needs a solver built with friction (pass none)")
        if isinstance(solver, FrictionalQuasiStaticGel):
            solver.set_friction(friction, kt if kt is not None else kn_val)
        solver.reset()
    ind = solver.indenter
    H = pad[2]
    # Reference point of each indenter: sphere centre, cylinder/box centre of the body,
    # the mesh's own origin; `lift` is its height above the indenter's lowest point.
    depths = [depth * (k + 1) / steps for k in range(steps)]
    forces, radii, newton = [], [], []
    prev = 0.0
    for d in depths:
        ind.set_pose([0.0, 0.0, H + lift - d])
        # Predictor: scale the last displacement field to the new depth, then put the
        # nodes that now penetrate onto the indenter; Newton starts near the answer.
        if prev > 0:
            solver.scale_displacement(d / prev)
        solver.project_contact()
        prev = d
        info = solver.solve_with_friction() if friction > 0 else solver.solve()
        newton.append(info["newton"])
        out = solver.readout()
        forces.append(out["force"])
        radii.append(out["contact_radius"])
    res = PressResult(depths, forces, radii, info={
        "n_tets_quarter": solver.m, "n_nodes_quarter": solver.n, "mesh_size": h,
        "kn": kn_val, "newton_iterations": newton, "cg_iterations": solver.cg_iterations})
    if grad:
        g = solver.force_gradients()
        (dmu_dE, dmu_dnu), (dlam_dE, dlam_dnu) = material.snh_params_jacobian(E, nu)
        dF_dE = g["mu"] * dmu_dE + g["lam"] * dlam_dE
        if auto_kn:
            dF_dE += g["kn"] * kn_val / E
        full = {"E": dF_dE, "nu": g["mu"] * dmu_dnu + g["lam"] * dlam_dnu,
                "depth": -g["position"][2], "kn": g["kn"]}
        res.grad = {k: float(full[k]) for k in grad}
    if friction > 0:
        fr = solver.friction_readout()
        ratio = np.linalg.norm(fr["tangential"], axis=1) / np.maximum(friction * fr["normal"],
                                                                         1e-300)
        res.info["friction"] = {
            "mu": float(friction), "kt": float(solver.kt[None]),
            "stick_nodes": int(np.sum(fr["state"] == 1)),
            "slip_nodes": int(np.sum(fr["state"] == 2)),
            "max_cap_ratio": float(np.max(ratio[fr["normal"] > 0], initial=0.0)),
            "tangential_sum_quarter": [float(v) for v in fr["tangential"].sum(axis=0)]}
    res.info["solver"] = solver
    return res
