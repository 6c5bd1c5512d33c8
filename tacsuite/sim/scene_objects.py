"""Scene-file entries of deformable objects: MPM solids ("mpm") and cables ("cable").

    {"id": "clay", "type": "mpm", "shape": {"kind": "box", "size": [0.02, 0.02, 0.01]},
     "center": [0, 0, 0.005], "dx": 0.002, "ppc": 2, "margin": 4, "velocity": [0, 0, 0],
     "material": {"elastic": "fixed_corotated", "plastic": "von_mises", "E": 2e5,
                  "nu": 0.3, "density": 1500, "alpha": 0, "yield_stress": 2e3,
                  "friction_angle": 30}}
    {"id": "rope", "type": "cable", "start": [0, 0, 0.002], "end": [0.3, 0, 0.002],
     "nodes": 31, "radius": 0.002, "material": {"E": 1e7, "density": 1200, "alpha": 5},
     "fixed": [], "grasped": [0], "grasp_pose": [0, 0, 0.002, 0, 0, 0]}

A shape is {"kind": "box", "size": [3 lengths]} or {"kind": "sphere", "radius": r}.
Material values may be lists of `batch` numbers (one per environment).
"""

from __future__ import annotations

import numpy as np

from tacsuite.sim.scene import _err, _int, _keys, _num, _str, _vec

MPM_MATERIAL = ("elastic", "plastic", "E", "nu", "density", "alpha", "yield_stress",
                "friction_angle")


def validate_object(kind: str, b: dict, path: str, B: int) -> dict:
    from tacsuite.sim import mpm_materials as mm

    out = {}
    mat = b["material"]
    if not isinstance(mat, dict):
        raise _err(f"{path}.material", "must be an object")
    mp = f"{path}.material"
    if kind == "mpm":
        s = b["shape"]
        if not isinstance(s, dict):
            raise _err(f"{path}.shape", "must be {\"kind\": \"box\", \"size\": [...]} or "
                       "{\"kind\": \"sphere\", \"radius\": r}")
        sk = _str(s.get("kind"), f"{path}.shape.kind", ("box", "sphere"))
        if sk == "box":
            _keys(s, f"{path}.shape", ("kind", "size"), ("kind", "size"))
            out["shape"] = {"kind": "box", "size": _vec(s["size"], f"{path}.shape.size", 3, True)}
        else:
            _keys(s, f"{path}.shape", ("kind", "radius"), ("kind", "radius"))
            out["shape"] = {"kind": "sphere",
                            "radius": _num(s["radius"], f"{path}.shape.radius", 0.0, True)}
        out["center"] = _vec(b.get("center", [0.0] * 3), f"{path}.center", 3)
        out["dx"] = _num(b["dx"], f"{path}.dx", 0.0, True)
        out["ppc"] = _int(b.get("ppc", 2), f"{path}.ppc", 1)
        out["margin"] = _int(b.get("margin", 4), f"{path}.margin", 1)
        out["velocity"] = _vec(b.get("velocity", [0.0] * 3), f"{path}.velocity", 3)
        _keys(mat, mp, MPM_MATERIAL, ("E", "nu"))
        m = {"elastic": _str(mat.get("elastic", "fixed_corotated"), f"{mp}.elastic", mm.ELASTIC),
             "plastic": _str(mat.get("plastic", "none"), f"{mp}.plastic", mm.PLASTIC),
             "E": _num(mat["E"], f"{mp}.E", 0.0, True, allow_list=B),
             "nu": _num(mat["nu"], f"{mp}.nu", -1.0, True, allow_list=B),
             "density": _num(mat.get("density", 1000.0), f"{mp}.density", 0.0, True,
                             allow_list=B),
             "alpha": _num(mat.get("alpha", 0.0), f"{mp}.alpha", 0.0, allow_list=B),
             "yield_stress": _num(mat.get("yield_stress", 1e30), f"{mp}.yield_stress", 0.0,
                                  True, allow_list=B),
             "friction_angle": _num(mat.get("friction_angle", 30.0), f"{mp}.friction_angle",
                                    0.0, allow_list=B)}
        if np.any(np.atleast_1d(m["nu"]) >= 0.5):
            raise _err(f"{mp}.nu", f"must lie in (-1, 0.5), got {m['nu']!r}")
        if np.any(np.atleast_1d(m["friction_angle"]) >= 90):
            raise _err(f"{mp}.friction_angle", f"must lie in [0, 90), got {m['friction_angle']!r}")
        out["material"] = m
        return out
    out["start"] = _vec(b["start"], f"{path}.start", 3)
    out["end"] = _vec(b["end"], f"{path}.end", 3)
    if not np.linalg.norm(np.subtract(out["end"], out["start"])) > 0:
        raise _err(f"{path}.end", "must differ from start")
    n = out["nodes"] = _int(b["nodes"], f"{path}.nodes", 3)
    out["radius"] = _num(b["radius"], f"{path}.radius", 0.0, True)
    _keys(mat, mp, ("E", "density", "alpha"), ("E",))
    out["material"] = {"E": _num(mat["E"], f"{mp}.E", 0.0, True, allow_list=B),
                       "density": _num(mat.get("density", 1000.0), f"{mp}.density", 0.0, True,
                                       allow_list=B),
                       "alpha": _num(mat.get("alpha", 0.0), f"{mp}.alpha", 0.0, allow_list=B)}
    for key in ("fixed", "grasped"):
        idx = b.get(key, [])
        if not isinstance(idx, list):
            raise _err(f"{path}.{key}", f"must be a list of node indices, got {idx!r}")
        out[key] = [_int(i, f"{path}.{key}[{k}]", 0) for k, i in enumerate(idx)]
        for k, i in enumerate(out[key]):
            if i >= n:
                raise _err(f"{path}.{key}[{k}]", f"node {i} does not exist (nodes: {n})")
    out["grasp_pose"] = _vec(b.get("grasp_pose", [0.0] * 6), f"{path}.grasp_pose", 6)
    return out


def build_object(b: dict):
    """The MPMBody or Cable of a validated scene entry."""
    from tacsuite.sim.cable import Cable
    from tacsuite.sim.mpm import MPMBody, sample_primitive

    m = b["material"]
    if b["type"] == "mpm":
        s = b["shape"]
        pts = sample_primitive(s["kind"], b["dx"] / b["ppc"], size=s.get("size"),
                               radius=s.get("radius"), center=b["center"])
        return MPMBody(b["id"], pts, b["dx"], E=m["E"], nu=m["nu"], density=m["density"],
                       ppc=b["ppc"], elastic=m["elastic"], plastic=m["plastic"],
                       alpha=m["alpha"], yield_stress=m["yield_stress"],
                       friction_angle=m["friction_angle"], margin=b["margin"],
                       velocity=b["velocity"])
    pts = np.linspace(b["start"], b["end"], b["nodes"])
    return Cable(b["id"], pts, radius=b["radius"], E=m["E"], density=m["density"],
                 alpha=m["alpha"], fixed=b["fixed"], grasped=b["grasped"],
                 grasp_pose=b["grasp_pose"])
