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


def default_mesh_size(indenter: str, radius: float, depth: float) -> float:
    a = np.sqrt(radius * depth) if indenter == "sphere" else radius
    return a / 5.0


def press(indenter: str = "sphere", radius: float = 5e-3, depth: float = 2e-4,
          E: float = 1e5, nu: float = 0.3, pad=(0.04, 0.04, 0.02), mesh_size: float | None = None,
          kn: float | None = None, steps: int = 4, grad=(), dtype=None, growth: float = 1.35,
          solver: QuasiStaticGel | None = None) -> PressResult:
    """Press `indenter` to `depth` (m) into the centre of the top face of `pad` (W, L, H).

    kn: contact stiffness in Pa/m; default 100 E / mesh_size, so the penalty gap stays
    about 1 % of the depth. Gradients are total derivatives with that default
    (dF/dE includes dkn/dE). `steps` depths are solved, equally spaced up to `depth`.
    Pass an existing `solver` (from a previous call with the same mesh) to skip set-up.
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
    h = float(mesh_size or default_mesh_size(indenter, radius, depth))
    if not h > 0:
        raise ValueError(f"mesh_size must be positive, got {mesh_size!r}")
    auto_kn = kn is None
    kn_val = 100.0 * E / h if auto_kn else float(kn)
    dtype = dtype or ti.f64
    if solver is None:
        fine = 1.5 * (np.sqrt(radius * depth) if indenter == "sphere" else radius)
        mesh = graded_quarter_pad(pad, h, fine, growth)
        ind = make_indenter(indenter, radius, dtype=dtype)
        solver = QuasiStaticGel(mesh, E, nu, kn_val, ind, dtype=dtype, symmetry_planes=(0, 1))
        solver.h_mesh = h
    else:
        solver.set_material(E, nu)
        solver.set_contact(kn_val)
        solver.reset()
    ind = solver.indenter
    H = pad[2]
    # Reference point of each indenter: sphere centre, cylinder/box centre of the body.
    lift = radius
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
        info = solver.solve()
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
    res.info["solver"] = solver
    return res
