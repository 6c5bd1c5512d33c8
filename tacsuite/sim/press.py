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

import os
from dataclasses import dataclass, field

import numpy as np

from tacsuite.common.progress import progress as bar
from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.contact_pair import ContactPair
from tacsuite.sim.fem_body import FEMBody
from tacsuite.sim.friction_statics import FrictionalQuasiStaticGel
from tacsuite.sim.indenters import make_indenter
from tacsuite.sim.kinematic import KinematicRigid
from tacsuite.sim.mesh import TetMesh, structured_box
from tacsuite.sim.press_defaults import DEFAULTS, GRAD_NAMES, INDENTERS
from tacsuite.sim.statics import NotConverged, QuasiStaticGel
from tacsuite.sim.world import World
from tacsuite.sim.world_statics import StaticSolver

ti = import_taichi()

# Resource limits (see `check_resources`). A quarter pad of 1e6 tets needs about 1.2 GB
# and tens of minutes; raise the limit with TACSUITE_MAX_TETS or `max_tets=`.
MAX_TETS = 1_000_000
MAX_STEPS = 1000
MAX_SCALE_RATIO = 1e4     # pad thickness / finest element: CG work grows with it
BYTES_PER_TET = 1200      # measured peak resident memory per quarter-model tet


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
    """Result of `press`: force (N) and contact radius (m) at each depth (m), gradients.

    grad: d(final force)/d(name) for the requested names; loss, loss_grad: the value and
    gradients of the `loss` passed to `press`; info: mesh size, kn, iteration counts, the
    friction summary and the solver (reusable through `press(solver=...)`).
    """

    depths: list
    forces: list
    contact_radii: list
    grad: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    loss: float | None = None
    loss_grad: dict = field(default_factory=dict)

    @property
    def force(self) -> float:
        return self.forces[-1]

    @property
    def contact_radius(self) -> float:
        return self.contact_radii[-1]


def estimate_press(pad, h_fine: float, fine: float, growth: float) -> dict:
    """Size of the quarter pad `press` would mesh, computed from its axes alone."""
    W, L, H = pad
    n = [len(graded_axis(W / 2, h_fine, fine, growth)), len(graded_axis(L / 2, h_fine, fine,
                                                                        growth)),
         len(graded_axis(H, h_fine, fine, growth))]
    tets = 6 * (n[0] - 1) * (n[1] - 1) * (n[2] - 1)
    return {"nodes": n[0] * n[1] * n[2], "tets": tets, "bytes": BYTES_PER_TET * tets}


def max_tets_limit(max_tets: int | None = None) -> int:
    if max_tets is not None:
        if not int(max_tets) >= 1:
            raise ValueError(f"max_tets must be a positive number of tets, got {max_tets!r}")
        return int(max_tets)
    raw = os.environ.get("TACSUITE_MAX_TETS", str(MAX_TETS))
    try:
        value = int(float(raw))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"TACSUITE_MAX_TETS must be a positive number of tets, got {raw!r}")
    return value


def check_resources(pad, depth: float, h: float, fine: float, growth: float, steps: int,
                    dtype, max_tets: int | None = None) -> dict:
    """Refuse, before any meshing, a press that would exhaust memory or never finish."""
    if not (isinstance(steps, (int, np.integer)) and 1 <= steps <= MAX_STEPS):
        raise ValueError(f"steps must be an integer from 1 to {MAX_STEPS} (each is a "
                         f"Newton solve), got {steps!r}")
    # The penalty gap (about 1 % of the depth) must stay far above the rounding of the
    # node coordinates, or no solver reaches its tolerance.
    frac = 1e-6 if dtype == ti.f64 else 1e-3
    min_depth = frac * pad[2]
    if depth < min_depth:
        raise ValueError(f"depth {depth:.3g} m is below the smallest indentation this pad "
                         f"resolves in {'float64' if dtype == ti.f64 else 'float32'}, "
                         f"{min_depth:.3g} m ({frac:g} x the pad thickness {pad[2]:g} m)")
    if pad[2] / h > MAX_SCALE_RATIO:
        raise ValueError(f"element size {h:.3g} m is {pad[2] / h:.3g} times finer than the pad "
                         f"thickness {pad[2]:g} m (at most {MAX_SCALE_RATIO:.0e}: the solver's "
                         "iterations grow with that ratio); pass a larger mesh size or a "
                         "larger depth (the default mesh size is contact radius / 5)")
    est = estimate_press(pad, h, fine, growth)
    limit = max_tets_limit(max_tets)
    if est["tets"] > limit:
        raise ValueError(f"this press needs about {est['tets']:,} tets ({est['nodes']:,} nodes, "
                         f"~{est['bytes'] / 1e9:.1f} GB) in its quarter model, above the limit "
                         f"of {limit:,}; use a larger mesh size or a smaller pad, or raise the "
                         "limit (TACSUITE_MAX_TETS or --max-tets)")
    return est


def _advice(exc: Exception, E, nu, kn, auto_kn: bool, dtype) -> str:
    tips = []
    if nu > 0.49:
        tips.append(f"nu = {nu:g} is nearly incompressible, which linear tets resolve badly: "
                    "use nu <= 0.49")
    if not auto_kn:
        tips.append(f"lower kn (now {kn:.3g} Pa/m; the default is 100 E / mesh size)")
    if dtype != ti.f64:
        tips.append("solve in float64")
    tips.append("press in more load steps")
    return f"{exc}; to converge: " + "; ".join(tips)


class CoarseIndenterWarning(UserWarning):
    """A triangle-mesh indenter is too coarse for the requested depth."""


FACET_WARN = 0.05      # warn when the estimated force error of the facets exceeds 5 %


def facet_force_error(verts: np.ndarray, tris: np.ndarray, depth: float) -> float:
    """Estimated relative force error of pressing a faceted surface `depth` deep.

    A facet lies inside the smooth surface through its vertices by its sagitta
    s ~ rho theta / 2 (rho: vertex to centroid, theta: angle between the vertex normal and
    the facet normal); a Hertz-like force F ~ d^1.5 then drops by about 1.5 s / d. Taken as
    the mean over the facets within `depth` of the lowest point.
    """
    a, b, c = (verts[tris[:, k]] for k in range(3))
    fn = np.cross(b - a, c - a)
    area2 = np.linalg.norm(fn, axis=1)
    fn = fn / np.maximum(area2, 1e-300)[:, None]
    vn = np.zeros_like(verts)
    for k in range(3):
        np.add.at(vn, tris[:, k], fn * area2[:, None])
    vn /= np.maximum(np.linalg.norm(vn, axis=1), 1e-300)[:, None]
    centroid = (a + b + c) / 3.0
    near = centroid[:, 2] < verts[:, 2].min() + depth
    if not near.any():
        return 0.0
    sag = np.zeros(len(tris))
    for k in range(3):
        rho = np.linalg.norm(verts[tris[:, k]] - centroid, axis=1)
        cosang = np.clip(np.sum(vn[tris[:, k]] * fn, axis=1), -1.0, 1.0)
        sag += rho * np.arccos(cosang) / 2.0 / 3.0
    return float(1.5 * sag[near].mean() / depth)


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
    err = facet_force_error(verts, tris, depth)
    if err > FACET_WARN:
        import warnings
        warnings.warn(f"{path}: the mesh is coarse for a {depth:g} m press: its facets lie "
                      f"inside the smooth surface by enough to lower the force by about "
                      f"{100 * err:.0f} %; use a finer mesh (about "
                      f"{np.sqrt(err / FACET_WARN):.1f}x more edges across the contact)",
                      CoarseIndenterWarning, stacklevel=3)
    ind = MeshSDFIndenter.from_file(path, scale, resolution=64, dtype=dtype)
    return ind, -zmin, footprint / np.sqrt(2.0)


def _chain_rule(g: dict, E: float, kn: float, auto_kn: bool, auto_kt: bool, names,
                steps: int | None = None) -> dict:
    """Press parameters' derivatives from the world's (`StaticSolver.gradients`).

    With the defaults kn = 100 E / h and kt = kn, a change of E moves kn and kt too and a
    change of kn moves kt: the derivatives are total ones along those defaults.
    """
    gel, pair = g["params"]["gel"], g["params"]["gel-indenter"]
    d_kn = pair["kn"] + (pair["kt"] if auto_kt else 0.0)
    # Step s of S presses to depth s / S: each recorded step's indenter height moves by
    # -s / S per unit depth (the last entry is the last step).
    per_step = np.asarray(g["action_steps"]["indenter"])[:, 2]
    S = steps if steps is not None else len(per_step)
    frac = (S - np.arange(len(per_step))[::-1]) / S
    full = {"E": gel["E"] + (d_kn * kn / E if auto_kn else 0.0), "nu": gel["nu"],
            "depth": -float(np.sum(frac * per_step)), "kn": d_kn, "friction": pair["mu"]}
    return {k: float(full[k]) for k in names}


def press_world(mesh: TetMesh, shape, E: float, nu: float, kn: float, friction: float,
                kt: float, lift: float, dtype) -> StaticSolver:
    """The press as a world: a bonded quarter pad ("gel", symmetry planes x = 0 and
    y = 0), the indenter ("indenter", kinematic, starting just above the pad) and their
    contact pair ("gel-indenter"); returns its static solver.

    The press takes no explicit substeps; the world still gets a stable one (density
    1000 kg/m^3) so that it can be stepped on from an equilibrium.
    """
    world = World(batch=1, dtype=dtype, dt=1.0)
    top = float(mesh.points[:, 2].max())
    gel = world.add(FEMBody("gel", mesh, E=E, nu=nu, density=1000.0, symmetry_planes=(0, 1)))
    ind = world.add(KinematicRigid("indenter", shape, pose=(0.0, 0.0, top + lift, 0, 0, 0)))
    world.add_pair(ContactPair(gel, ind, kn=kn, kt=kt, mu=friction))
    _fit_dt(world)
    return StaticSolver(world)


def _fit_dt(world) -> None:
    world.set_dt(0.5 * world.stability_limit())


def _set_press_params(static: StaticSolver, E, nu, kn, kt, friction) -> None:
    w = static.world
    # Parameters are checked against the current substep; the press takes none, so it
    # is made small while they change and refitted after.
    w.set_dt(1e-3 * w.dt_limit)
    static.body.set_params(E=E, nu=nu)
    static.pair.set_params(kn=kn, kt=kt, mu=friction)
    _fit_dt(w)


def default_mesh_size(indenter: str, radius: float, depth: float) -> float:
    a = np.sqrt(radius * depth) if indenter in ("sphere", "capsule") else radius
    return a / 5.0


def press(indenter: str = DEFAULTS["indenter"], radius: float = DEFAULTS["radius"],
          depth: float = DEFAULTS["depth"], E: float = DEFAULTS["E"], nu: float = DEFAULTS["nu"],
          pad=DEFAULTS["pad"], mesh_size: float | None = None, kn: float | None = None,
          steps: int = DEFAULTS["steps"], grad=(), dtype=None, growth: float = DEFAULTS["growth"],
          solver: QuasiStaticGel | None = None, friction: float = DEFAULTS["friction"],
          kt: float | None = None, mesh_file=None, mesh_scale: float = DEFAULTS["mesh_scale"],
          loss=None, max_tets: int | None = None, progress: bool | None = None) -> PressResult:
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
    matters, so `steps` is also the friction loading resolution. Gradients with friction
    (including by `friction`, the coefficient) go back through every load step's anchors
    (`friction_history`); on the tests' presses they agree with central differences to
    about 2e-4 in 3 steps.

    loss: a function of the final displacement field u (array (n, 3) of the quarter
    model's nodes, `res.info["solver"].X` their rest positions) returning (L, dL/du);
    `res.loss` is L and `res.loss_grad` its derivatives by every name in GRAD_NAMES that
    applies, from one adjoint solve.

    Resources: a press whose quarter model needs more than `max_tets` tets (default
    MAX_TETS, or TACSUITE_MAX_TETS) is refused before meshing, with the estimate; so are
    more than MAX_STEPS steps and depths the pad cannot resolve. progress: a progress bar
    over the load steps on stderr (default: when stderr is a terminal).
    Raises NotConverged (with what to change) when a solve fails.
    """
    ensure_init()
    if indenter not in INDENTERS:
        raise ValueError(f"unknown indenter {indenter!r}; choose from {INDENTERS}")
    for name, v in (("radius", radius), ("depth", depth), ("E", E)):
        if not (v > 0 and np.isfinite(v)):
            raise ValueError(f"{name} must be positive and finite, got {v!r}")
    if not (-1.0 < nu < 0.5):
        raise ValueError(f"nu must be in (-1, 0.5), got {nu!r}")
    if kn is not None and not (kn > 0 and np.isfinite(kn)):
        raise ValueError(f"kn must be positive and finite, got {kn!r}")
    if loss is not None and not callable(loss):
        raise ValueError("loss must be a function u -> (L, dL/du)")
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
    if "friction" in grad and not friction > 0:
        raise ValueError("the gradient by 'friction' needs friction > 0 (at zero every node "
                         "slips with no load, and the slip direction is undefined)")
    dtype = dtype or ti.f64
    # Height of the indenter's reference point above its lowest point (a capsule's is the
    # centre of its segment, one radius above the lower cap's centre).
    lift, mesh_ind = (2.0 * radius if indenter == "capsule" else radius), None
    if indenter == "mesh":
        if mesh_file is None:
            raise ValueError("indenter 'mesh' needs a mesh file (.obj or .stl)")
        if solver is None:
            mesh_ind, lift, a_est = mesh_indenter(mesh_file, mesh_scale, depth, dtype)
        else:
            mesh_ind, lift, a_est = solver.indenter.shape, solver.lift, solver.a_est
        radius = a_est          # the contact size: default mesh size and fine region
    h = float(mesh_size or default_mesh_size(indenter, radius, depth))
    if not h > 0:
        raise ValueError(f"mesh_size must be positive, got {mesh_size!r}")
    auto_kn = kn is None
    kn_val = 100.0 * E / h if auto_kn else float(kn)
    fine = 1.5 * (np.sqrt(radius * depth) if indenter in ("sphere", "capsule") else radius)
    if solver is None:
        check_resources(pad, depth, h, fine, growth, steps, dtype, max_tets)
    else:
        check_resources(pad, depth, h, fine, growth, steps, dtype, max_tets=2**62)
    kt_val = kt if kt is not None else kn_val
    if solver is None:
        mesh = graded_quarter_pad(pad, h, fine, growth)
        # Put the contact point at the origin: node coordinates are then small where the
        # strains are large, which keeps float32 rounding of x - X (and of F) low there.
        mesh = TetMesh(mesh.points - np.array([0.0, 0.0, pad[2]]), mesh.tets,
                       mesh.surface_tris, mesh.bottom_nodes, meta={**mesh.meta, "top": 0.0})
        shape = mesh_ind or make_indenter(indenter, radius, dtype=dtype)
        static = press_world(mesh, shape, E, nu, kn_val, friction, kt_val, lift, dtype)
        solver = static.build(frictional=friction > 0)
        solver.static = static
        solver.h_mesh = h
        solver.lift, solver.a_est = lift, radius
    else:
        static = getattr(solver, "static", None)
        if static is None:
            raise ValueError("solver= takes the solver of an earlier press "
                             "(res.info['solver'])")
        if friction > 0 and not isinstance(solver, FrictionalQuasiStaticGel):
            raise ValueError("friction > 0 needs a solver built with friction (pass none)")
        _set_press_params(static, E, nu, kn_val, kt_val, friction)
        static.world.reset()
    H = float(solver.mesh.points[:, 2].max())       # the top face
    # Reference point of each indenter: sphere centre, cylinder/box centre of the body,
    # the mesh's own origin; `lift` is its height above the indenter's lowest point.
    depths = [depth * (k + 1) / steps for k in range(steps)]
    forces, radii, newton = [], [], []
    prev = 0.0
    with bar(total=steps, desc="sim press", unit="step",
             disable=None if progress is None else not progress) as pbar:
        for d in depths:
            # Predictor: scale the last displacement field to the new depth, then put the
            # nodes that now penetrate onto the indenter; Newton starts near the answer.
            try:
                out = static.solve({"indenter": (0.0, 0.0, H + lift - d, 0.0, 0.0, 0.0)},
                                   scale=d / prev if prev > 0 else None)[0]
            except NotConverged as exc:
                raise type(exc)(_advice(exc, E, nu, kn_val, auto_kn, dtype)) from exc
            prev = d
            newton.append(out["newton"])
            forces.append(out["force"])
            radii.append(out["contact_radius"])
            pbar.update(1)
            pbar.set_postfix(depth=f"{d:.3g}", force=f"{out['force']:.4g}")
    res = PressResult(depths, forces, radii, info={
        "n_tets_quarter": solver.m, "n_nodes_quarter": solver.n, "mesh_size": h,
        "kn": kn_val, "newton_iterations": newton, "cg_iterations": solver.cg_iterations})
    names = [g for g in GRAD_NAMES if g != "friction" or friction > 0]
    if grad:
        res.grad = _chain_rule(static.gradients(), E, kn_val, auto_kn, auto_kt=kt is None,
                               names=grad, steps=steps)
    if loss is not None:
        u = solver.x.to_numpy().astype(np.float64) - solver.mesh.points
        value, dL_du = loss(u)
        g = static.gradients(dL_du)
        res.loss = float(value)
        res.loss_grad = _chain_rule(g, E, kn_val, auto_kn, auto_kt=kt is None, names=names,
                                    steps=steps)
    if friction > 0:
        fr = solver.friction_readout()
        ratio = np.linalg.norm(fr["tangential"], axis=1) / np.maximum(friction * fr["normal"],
                                                                         1e-300)
        res.info["friction"] = {
            "mu": float(friction), "kt": float(solver.kt[None]),
            # Nodes in contact (a node that has left the indenter carries no friction).
            "stick_nodes": int(np.sum((fr["state"] == 1) & (fr["normal"] > 0))),
            "slip_nodes": int(np.sum((fr["state"] == 2) & (fr["normal"] > 0))),
            "max_cap_ratio": float(np.max(ratio[fr["normal"] > 0], initial=0.0)),
            "tangential_sum_quarter": [float(v) for v in fr["tangential"].sum(axis=0)]}
    res.info["solver"] = solver
    return res
