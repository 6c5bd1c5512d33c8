"""`tacsuite sim`: experiments of the differentiable gel simulator.

`tacsuite sim press --indenter sphere --radius 0.005 --depth 0.0002 --E 1e5 --nu 0.3
--grad E,nu,depth --json` prints {"force", "contact_radius", "grad", ...}.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Literal

import numpy as np

from tacsuite.common.cliargs import dispatch, run_config
from tacsuite.sim.press_defaults import DEFAULTS

_D = DEFAULTS


@dataclasses.dataclass
class PressConfig:
    indenter: Literal["sphere", "cylinder", "box", "capsule", "mesh"] = _D["indenter"]
    """Indenter shape: sphere (radius), flat-ended cylinder (radius), box (half width),
    capsule (radius; a vertical segment of half length radius, swept), or mesh (a closed
    .obj/.stl surface given by --mesh-file, mirror-symmetric in x and y)."""
    mesh_file: str | None = None
    """Triangle mesh of the indenter for --indenter mesh (.obj or .stl)."""
    mesh_scale: float = _D["mesh_scale"]
    """Factor from the mesh file's units to metres (e.g. 0.001 for millimetres)."""
    radius: float = _D["radius"]
    """Indenter radius (sphere, cylinder, capsule) or half width (box), metres."""
    depth: float = _D["depth"]
    """Indentation depth below the undeformed top face, metres."""
    E: float = _D["E"]
    """Young's modulus of the gel, pascals."""
    nu: float = _D["nu"]
    """Poisson's ratio of the gel, in (-1, 0.5)."""
    pad: str = ",".join(f"{v:g}" for v in _D["pad"])
    """Pad size W,L,H in metres; the bottom face is bonded to the sensor frame."""
    mesh_size: float | None = None
    """Element size under the indenter, metres (default: contact radius / 5)."""
    kn: float | None = None
    """Contact penalty stiffness, Pa per metre of penetration (default 100 E / mesh size)."""
    friction: float = _D["friction"]
    """Coulomb friction coefficient between indenter and gel (0: frictionless)."""
    steps: int = _D["steps"]
    """Load steps up to the final depth, 1 to 1000 (forces at each are in the JSON `curve`)."""
    grad: str = ""
    """Comma-separated parameters to differentiate the force by: E, nu, depth, kn, friction."""
    max_tets: int | None = None
    """Largest quarter-model mesh to build (default 1,000,000 or $TACSUITE_MAX_TETS)."""
    image: str | None = None
    """Save a picture of the deformed pad to this PNG path."""
    json: bool = False
    """Print the result as one JSON object."""
    float32: bool = False
    """Solve in float32 instead of float64."""


def _parse_pad(text: str) -> tuple[float, float, float]:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) <= 0:
        raise ValueError(f"--pad must be W,L,H with three positive sizes in metres, got {text!r}")
    return vals


def run_press(cfg: PressConfig) -> dict:
    from tacsuite.sim.backend import ensure_init, import_taichi
    from tacsuite.sim.press import GRAD_NAMES, press
    from tacsuite.sim.statics import NotConverged

    grads = tuple(g.strip() for g in cfg.grad.split(",") if g.strip())
    for g in grads:
        if g not in GRAD_NAMES:
            raise ValueError(f"--grad {g!r} is not a parameter; choose from {GRAD_NAMES}")
    if cfg.indenter == "mesh" and not cfg.mesh_file:
        raise ValueError("--indenter mesh needs --mesh-file PATH (.obj or .stl)")
    if cfg.mesh_file and cfg.indenter != "mesh":
        raise ValueError(f"--mesh-file is only used with --indenter mesh, not {cfg.indenter!r}")
    if not (cfg.friction >= 0 and np.isfinite(cfg.friction)):
        raise ValueError(f"--friction must be a coefficient >= 0, got {cfg.friction}")
    if "friction" in grads and not cfg.friction > 0:
        raise ValueError("--grad friction needs --friction > 0")
    ensure_init()
    ti = import_taichi()
    t0 = time.perf_counter()
    try:
        res = press(cfg.indenter, cfg.radius, cfg.depth, E=cfg.E, nu=cfg.nu,
                    pad=_parse_pad(cfg.pad), mesh_size=cfg.mesh_size, kn=cfg.kn,
                    steps=cfg.steps, grad=grads, dtype=ti.f32 if cfg.float32 else ti.f64,
                    friction=cfg.friction, mesh_file=cfg.mesh_file, mesh_scale=cfg.mesh_scale,
                    max_tets=cfg.max_tets)
    except NotConverged as exc:
        # A solver failure is a property of the request: say what to change (exit 2).
        raise ValueError(f"the press did not converge: {exc}") from exc
    solver = res.info.pop("solver")
    out = {"force": res.force, "contact_radius": res.contact_radius, "grad": res.grad,
           "curve": {"depth": res.depths, "force": res.forces},
           "mesh": {"tets": 4 * res.info["n_tets_quarter"], "mesh_size": res.info["mesh_size"]},
           "kn": res.info["kn"], "seconds": time.perf_counter() - t0}
    if "friction" in res.info:
        out["friction"] = res.info["friction"]
    if cfg.indenter == "sphere":
        from tacsuite.theory.contact import hertz_force, hertz_radius
        out["hertz"] = {"force": float(hertz_force(cfg.depth, cfg.radius, cfg.E, cfg.nu)),
                        "contact_radius": float(hertz_radius(cfg.depth, cfg.radius))}
    if cfg.image:
        from tacsuite.sim.render import save_pad_image

        save_pad_image(solver, cfg.image, title=f"{cfg.indenter} R={cfg.radius:g} m, "
                       f"depth={cfg.depth:g} m, F={res.force:.4g} N")
        out["image"] = cfg.image
    return out


def press_main(argv: list[str], prog: str) -> int:
    cfg = run_config(PressConfig, argv, prog, description="Quasi-static press of an indenter "
                     "into the centre of a gel pad: force, contact radius, adjoint gradients.")
    out = run_press(cfg)
    if cfg.json:
        print(json.dumps(out))
    else:
        print(f"force {out['force']:.6g} N, contact radius {out['contact_radius']:.4g} m "
              f"({out['mesh']['tets']} tets, {out['seconds']:.2f} s)")
        for k, v in out["grad"].items():
            print(f"  dF/d{k} = {v:.6g}")
        if "hertz" in out:
            print(f"  Hertz: force {out['hertz']['force']:.6g} N, "
                  f"radius {out['hertz']['contact_radius']:.4g} m")
    return 0 if np.isfinite(out["force"]) else 1


def _run_main(argv: list[str], prog: str) -> int:
    # `sim run SCENE`: scene files, implemented in tacsuite.commands.sim_run.
    from tacsuite.commands.sim_run import main as run_main

    return run_main(argv, prog)


def main(argv: list[str], prog: str) -> int:
    return dispatch({"press": (press_main, "Quasi-static press with force and gradients."),
                     "run": (_run_main, "Run a scene file and record states.npz.")},
                    argv, prog, "Differentiable gel simulator experiments.")
