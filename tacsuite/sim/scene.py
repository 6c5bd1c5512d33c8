"""Scene files: a world described in JSON or YAML, validated field by field, built and driven.

A scene is one JSON object, or the same mapping written in YAML (.yaml/.yml); the
README's "Scenes" section lists every field:

    {"name": ..., "dtype": "float64", "batch": 1, "gravity": [0, 0, -9.81],
     "time": {"dt": 5e-5 | "auto", "substeps": 40, "duration": 0.2, "save_every": 1},
     "bodies": [{"id": "ground", "type": "ground"},
                {"id": "cube", "type": "rigid", "shape": {"kind": "box", ...}, ...},
                {"id": "pusher", "type": "kinematic", "shape": {...}, "pose": [...]},
                {"id": "finger", "type": "fem", "mesh": {...}, "material": {...}, ...}],
     "contacts": "auto" | [{"a": "finger", "b": "cube", "mu": 0.8, ...}, ...],
     "contact_defaults": {"kn": ..., "kd": ..., "kt": ..., "mu": ...},
     "joints": [{"id": "hinge", "type": "hinge", "body": "lid", "anchor": [...], ...}],
     "actions": {"finger": {"motion": "press_slide", ...} | {"table": {...}}}}

`load_scene(path)` / `validate(dict)` return a checked, normalised dict or raise a
ValueError naming the bad field (as a path such as ``bodies[2].shape.radius``) and what
is allowed. `build(scene)` makes the World; `actions_at(scene, step)` gives the pose
actions of the driven bodies at a control step.

Poses are (x, y, z, rx, ry, rz): position (m) and rotation vector (rad), the world's
convention. Per-environment parameters (density, material, contact values) may be a
number or a list of `batch` numbers, so one scene can sweep a parameter.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

BODY_TYPES = ("ground", "rigid", "kinematic", "fem", "mpm", "cable")
SHAPE_SIZES = {"box": ("half_extents",), "sphere": ("radius",),
               "capsule": ("radius", "half_length"), "cylinder": ("radius", "half_height"),
               "mesh": ("file",)}
MOTIONS = {"hold": (), "linear": ("to", "start", "end"),
           "press_slide": ("press", "press_time", "hold_time", "slide", "slide_time"),
           "squeeze_lift": ("squeeze", "squeeze_time", "hold_time", "lift", "lift_time")}
CONTACT_KEYS = ("kn", "kd", "kt", "mu")
DEFAULT_CONTACT = {"kn": 1e8, "kd": 1e3, "kt": 1e8, "mu": 0.5}
POINT_SIDE = ("rigid", "fem", "mpm", "cable")
SDF_SIDE = ("ground", "rigid", "kinematic")
SURFACE_SIDE = ("fem",)  # a contact whose b is a gel is a SurfacePair (its deforming surface)
SURFACE_POINT_SIDE = ("mpm", "cable", "rigid")
MPM_KEYS = ("id", "type", "shape", "center", "dx", "ppc", "material", "margin", "velocity")
CABLE_KEYS = ("id", "type", "start", "end", "nodes", "radius", "material", "fixed",
              "grasped", "grasp_pose")


def _err(path: str, msg: str) -> ValueError:
    return ValueError(f"scene field {path}: {msg}")


def _keys(d, path, allowed, required=()):
    if not isinstance(d, dict):
        raise _err(path, f"must be an object with keys from {sorted(allowed)}, "
                   f"got {type(d).__name__}")
    bad = sorted(set(d) - set(allowed))
    if bad:
        raise _err(f"{path}.{bad[0]}" if path else bad[0],
                   f"unknown field; allowed here: {sorted(allowed)}")
    for k in required:
        if k not in d:
            raise _err(f"{path}.{k}" if path else k, "is required")


def _num(v, path, lo=None, strict=False, allow_list=0):
    """A finite number (or, with allow_list=B > 1, a list of B numbers) checked against lo."""
    if allow_list and isinstance(v, list):
        if len(v) != allow_list:
            raise _err(path, f"a per-environment list needs {allow_list} numbers (batch), "
                       f"got {len(v)}")
        return [_num(x, f"{path}[{i}]", lo, strict) for i, x in enumerate(v)]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        want = "a finite number" + (f" or a list of {allow_list}" if allow_list else "")
        raise _err(path, f"must be {want}, got {v!r}")
    if lo is not None and (v <= lo if strict else v < lo):
        raise _err(path, f"must be {'>' if strict else '>='} {lo}, got {v!r}")
    return float(v)


def _int(v, path, lo):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise _err(path, f"must be an integer >= {lo}, got {v!r}")
    return v


def _vec(v, path, n, positive=False):
    if not isinstance(v, list) or len(v) != n:
        raise _err(path, f"must be a list of {n} numbers, got {v!r}")
    return [_num(x, f"{path}[{i}]", 0.0 if positive else None, strict=positive)
            for i, x in enumerate(v)]


def _str(v, path, choices=None):
    if not isinstance(v, str) or not v:
        raise _err(path, f"must be a non-empty string, got {v!r}")
    if choices is not None and v not in choices:
        raise _err(path, f"{v!r} is not allowed; choose one of {list(choices)}")
    return v


# ----- validation ---------------------------------------------------------------------------
def validate(raw: dict, base_dir: str | Path = ".") -> dict:
    """Check a scene dict; return it normalised (defaults filled in, numbers as floats)."""
    _keys(raw, "", ("name", "description", "dtype", "batch", "gravity", "time", "bodies",
                    "contacts", "contact_defaults", "joints", "actions"),
          required=("time", "bodies"))
    sc: dict = {"name": _str(raw.get("name", "scene"), "name"),
                "description": str(raw.get("description", ""))}
    sc["dtype"] = _str(raw.get("dtype", "float64"), "dtype", ("float32", "float64"))
    B = sc["batch"] = _int(raw.get("batch", 1), "batch", 1)
    sc["gravity"] = _vec(raw.get("gravity", [0.0, 0.0, -9.81]), "gravity", 3)
    tm = raw["time"]
    _keys(tm, "time", ("dt", "substeps", "duration", "save_every"),
          required=("substeps", "duration"))
    dt = tm.get("dt", "auto")
    sc["time"] = {"dt": dt if dt == "auto" else _num(dt, "time.dt", 0.0, strict=True),
                  "substeps": _int(tm["substeps"], "time.substeps", 1),
                  "duration": _num(tm["duration"], "time.duration", 0.0, strict=True),
                  "save_every": _int(tm.get("save_every", 1), "time.save_every", 1)}
    if not isinstance(raw["bodies"], list) or not raw["bodies"]:
        raise _err("bodies", "must be a non-empty list of body objects")
    bodies, ids = [], {}
    for i, b in enumerate(raw["bodies"]):
        body = _body(b, f"bodies[{i}]", B, Path(base_dir))
        if body["id"] in ids:
            raise _err(f"bodies[{i}].id", f"{body['id']!r} is used twice")
        ids[body["id"]] = body["type"]
        bodies.append(body)
    sc["bodies"] = bodies
    defaults = dict(DEFAULT_CONTACT)
    if "contact_defaults" in raw:
        cd = raw["contact_defaults"]
        _keys(cd, "contact_defaults", CONTACT_KEYS)
        defaults.update({k: _num(v, f"contact_defaults.{k}", 0.0, allow_list=B)
                         for k, v in cd.items()})
    sc["contact_defaults"] = defaults
    sc["contacts"] = _contacts(raw.get("contacts", "auto"), ids, defaults, B)
    sc["joints"] = _joints(raw.get("joints", []), ids)
    sc["actions"] = _actions(raw.get("actions", {}), ids, bodies)
    return sc


def _body(b, path, B, base_dir: Path) -> dict:
    if not isinstance(b, dict):
        raise _err(path, f"must be an object, got {type(b).__name__}")
    kind = _str(b.get("type"), f"{path}.type", BODY_TYPES)
    allowed = {"ground": ("id", "type", "normal", "point"),
               "rigid": ("id", "type", "shape", "density", "pose", "velocity",
                         "angular_velocity"),
               "kinematic": ("id", "type", "shape", "pose"),
               "fem": ("id", "type", "mesh", "material", "pose"),
               "mpm": MPM_KEYS, "cable": CABLE_KEYS}[kind]
    required = {"ground": (), "rigid": ("shape",), "kinematic": ("shape",),
                "fem": ("mesh", "material"), "mpm": ("shape", "dx", "material"),
                "cable": ("start", "end", "nodes", "radius", "material")}[kind]
    _keys(b, path, allowed, ("id", "type") + required)
    bid = _str(b["id"], f"{path}.id")
    if "." in bid:
        raise _err(f"{path}.id", f"{bid!r} must not contain '.'")
    out = {"id": bid, "type": kind}
    if kind in ("mpm", "cable"):
        from tacsuite.sim.scene_objects import validate_object
        out.update(validate_object(kind, b, path, B))
        return out
    if kind == "ground":
        out["normal"] = _vec(b.get("normal", [0.0, 0.0, 1.0]), f"{path}.normal", 3)
        if not np.linalg.norm(out["normal"]) > 0:
            raise _err(f"{path}.normal", "must be a non-zero vector")
        out["point"] = _vec(b.get("point", [0.0, 0.0, 0.0]), f"{path}.point", 3)
        return out
    out["pose"] = _vec(b.get("pose", [0.0] * 6), f"{path}.pose", 6)
    if kind in ("rigid", "kinematic"):
        out["shape"] = _shape(b["shape"], f"{path}.shape", base_dir)
    if kind == "rigid":
        out["density"] = _num(b.get("density", 1000.0), f"{path}.density", 0.0, True,
                              allow_list=B)
        out["velocity"] = _vec(b.get("velocity", [0.0] * 3), f"{path}.velocity", 3)
        out["angular_velocity"] = _vec(b.get("angular_velocity", [0.0] * 3),
                                       f"{path}.angular_velocity", 3)
    if kind == "fem":
        m = b["mesh"]
        _keys(m, f"{path}.mesh", ("kind", "size", "cells", "file"), ("kind",))
        mk = _str(m["kind"], f"{path}.mesh.kind", ("box", "file"))
        if mk == "box":
            _keys(m, f"{path}.mesh", ("kind", "size", "cells"), ("size", "cells"))
            out["mesh"] = {"kind": "box", "size": _vec(m["size"], f"{path}.mesh.size", 3, True),
                           "cells": [_int(c, f"{path}.mesh.cells[{i}]", 1)
                                     for i, c in enumerate(_list(m["cells"],
                                                                 f"{path}.mesh.cells", 3))]}
        else:
            _keys(m, f"{path}.mesh", ("kind", "file"), ("file",))
            out["mesh"] = {"kind": "file", "file": _file(m["file"], f"{path}.mesh.file",
                                                         base_dir)}
        mat = b["material"]
        _keys(mat, f"{path}.material", ("E", "nu", "density", "alpha"), ("E", "nu"))
        out["material"] = {
            "E": _num(mat["E"], f"{path}.material.E", 0.0, True, allow_list=B),
            "nu": _num(mat["nu"], f"{path}.material.nu", -1.0, True, allow_list=B),
            "density": _num(mat.get("density", 1000.0), f"{path}.material.density", 0.0,
                            True, allow_list=B),
            "alpha": _num(mat.get("alpha", 0.0), f"{path}.material.alpha", 0.0,
                          allow_list=B)}
        for i, nu in enumerate(np.atleast_1d(out["material"]["nu"])):
            if not nu < 0.5:
                raise _err(f"{path}.material.nu", f"must lie in (-1, 0.5), got {nu!r}"
                           + (f" (environment {i})" if B > 1 else ""))
    return out


def _list(v, path, n):
    if not isinstance(v, list) or len(v) != n:
        raise _err(path, f"must be a list of {n} values, got {v!r}")
    return v


def _file(v, path, base_dir: Path) -> str:
    p = Path(_str(v, path))
    if not p.is_absolute():
        p = base_dir / p
    if not p.is_file():
        raise _err(path, f"no such file {str(p)!r}")
    return str(p)


def _shape(s, path, base_dir: Path) -> dict:
    if not isinstance(s, dict):
        raise _err(path, f"must be an object with a kind from {list(SHAPE_SIZES)}")
    kind = _str(s.get("kind"), f"{path}.kind", tuple(SHAPE_SIZES))
    extra = ("scale", "resolution") if kind == "mesh" else ()
    _keys(s, path, ("kind", "spacing") + SHAPE_SIZES[kind] + extra,
          ("kind",) + SHAPE_SIZES[kind])
    out = {"kind": kind}
    for k in SHAPE_SIZES[kind]:
        if k == "half_extents":
            out[k] = _vec(s[k], f"{path}.{k}", 3, positive=True)
        elif k == "file":
            out[k] = _file(s[k], f"{path}.{k}", base_dir)
        else:
            out[k] = _num(s[k], f"{path}.{k}", 0.0, strict=True)
    if "spacing" in s:
        out["spacing"] = _num(s["spacing"], f"{path}.spacing", 0.0, strict=True)
    if "scale" in s:
        out["scale"] = _num(s["scale"], f"{path}.scale", 0.0, strict=True)
    if "resolution" in s:
        out["resolution"] = _int(s["resolution"], f"{path}.resolution", 8)
    return out


def _contacts(raw, ids: dict, defaults: dict, B: int) -> list:
    if raw == "auto":
        return auto_contacts(ids, defaults)
    if not isinstance(raw, list):
        raise _err("contacts", f"must be \"auto\" or a list of pair objects, got {raw!r}")
    out = []
    for i, c in enumerate(raw):
        path = f"contacts[{i}]"
        _keys(c, path, ("a", "b", "cutoff") + CONTACT_KEYS, ("a", "b"))
        a, b = (_ref(c[k], f"{path}.{k}", ids) for k in ("a", "b"))
        if ids[a] not in POINT_SIDE:
            raise _err(f"{path}.a", f"{a!r} is a {ids[a]} body; the point side of a contact "
                       f"must be one of {list(POINT_SIDE)}")
        if ids[b] not in SDF_SIDE + SURFACE_SIDE:
            raise _err(f"{path}.b", f"{b!r} is a {ids[b]} body; the surface side of a "
                       f"contact must be one of {list(SDF_SIDE + SURFACE_SIDE)}")
        if a == b:
            raise _err(f"{path}.b", "a body cannot touch itself")
        surface = ids[b] in SURFACE_SIDE
        if surface and ids[a] not in SURFACE_POINT_SIDE:
            raise _err(f"{path}.a", f"{a!r} is a {ids[a]} body; against a gel's surface the "
                       f"point side must be one of {list(SURFACE_POINT_SIDE)}")
        pair = {"a": a, "b": b, "surface": surface}
        if "cutoff" in c:
            if not surface:
                raise _err(f"{path}.cutoff", f"applies only to contacts against a gel (b of "
                           f"type fem); {b!r} is a {ids[b]} body")
            pair["cutoff"] = _num(c["cutoff"], f"{path}.cutoff", 0.0, strict=True)
        for k in CONTACT_KEYS:
            pair[k] = (_num(c[k], f"{path}.{k}", 0.0, allow_list=B) if k in c
                       else defaults[k])
        out.append(pair)
    return out


def auto_contacts(ids: dict, defaults: dict) -> list:
    """Every FEM and dynamic rigid body against every surface it can touch: FEM vs rigid
    and kinematic bodies (gels above the ground do not touch it), rigid vs ground and
    kinematic bodies, each pair of rigid bodies once (the earlier one's points
    against the later one's surface), and MPM objects and cables (their particles and
    nodes) against the ground, rigid and kinematic bodies and the gels' surfaces."""
    names = list(ids)
    out = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ta, tb = ids[a], ids[b]
            if a == b:
                continue
            if (ta == "fem" and tb in ("rigid", "kinematic")) or \
                    (ta == "rigid" and tb in ("ground", "kinematic")) or \
                    (ta == "rigid" and tb == "rigid" and i < j) or \
                    (ta in ("mpm", "cable") and tb in ("ground", "rigid", "kinematic",
                                                       "fem")):
                out.append({"a": a, "b": b, "surface": tb == "fem", **defaults})
    return out


def _ref(v, path, ids):
    v = _str(v, path)
    if v not in ids:
        raise _err(path, f"no body with id {v!r}; bodies are {list(ids)}")
    return v


def _joints(raw, ids) -> list:
    if not isinstance(raw, list):
        raise _err("joints", f"must be a list of joint objects, got {type(raw).__name__}")
    out = []
    for i, j in enumerate(raw):
        path = f"joints[{i}]"
        _keys(j, path, ("id", "type", "body", "other", "anchor", "axis", "limits",
                        "damping"), ("id", "type", "body", "anchor", "axis"))
        _str(j["type"], f"{path}.type", ("hinge",))
        jt = {"id": _str(j["id"], f"{path}.id"), "type": "hinge",
              "body": _ref(j["body"], f"{path}.body", ids),
              "other": None if j.get("other") is None else _ref(j["other"], f"{path}.other",
                                                                 ids),
              "anchor": _vec(j["anchor"], f"{path}.anchor", 3),
              "axis": _vec(j["axis"], f"{path}.axis", 3),
              "limits": None if j.get("limits") is None else _vec(j["limits"],
                                                                   f"{path}.limits", 2),
              "damping": _num(j.get("damping", 0.0), f"{path}.damping", 0.0)}
        for role in ("body", "other"):
            if jt[role] is not None and ids[jt[role]] != "rigid":
                raise _err(f"{path}.{role}", f"{jt[role]!r} is a {ids[jt[role]]} body; "
                           "hinges join dynamic rigid bodies (omit 'other' for the world)")
        if jt["id"] in ids or jt["id"] in [o["id"] for o in out]:
            raise _err(f"{path}.id", f"{jt['id']!r} is already used")
        if not np.linalg.norm(jt["axis"]) > 0:
            raise _err(f"{path}.axis", "must be a non-zero vector")
        if jt["limits"] is not None and not jt["limits"][0] <= 0 <= jt["limits"][1]:
            raise _err(f"{path}.limits", f"must be [lo, hi] with lo <= 0 <= hi (radians from "
                       f"the initial angle), got {jt['limits']}")
        out.append(jt)
    return out


def _actions(raw, ids, bodies) -> dict:
    if not isinstance(raw, dict):
        raise _err("actions", "must be an object {body id: motion}")
    poses = {b["id"]: b.get("pose", b.get("grasp_pose")) for b in bodies}
    out = {}
    for bid, spec in raw.items():
        path = f"actions.{bid}"
        _ref(bid, path, ids)
        if ids[bid] not in ("fem", "kinematic", "cable"):
            raise _err(path, f"{bid!r} is a {ids[bid]} body; actions drive fem, "
                       "kinematic and cable (grasp frame) bodies only")
        if not isinstance(spec, dict) or ("table" in spec) == ("motion" in spec):
            raise _err(path, "must be {\"table\": {\"t\": [...], \"pose\": [[6 numbers], "
                       "...]}} or {\"motion\": NAME, ...} with NAME in "
                       f"{list(MOTIONS)}")
        if "table" in spec:
            _keys(spec, path, ("table",))
            tab = spec["table"]
            _keys(tab, f"{path}.table", ("t", "pose"), ("t", "pose"))
            t = tab["t"]
            if not isinstance(t, list) or not t:
                raise _err(f"{path}.table.t", "must be a non-empty list of times (s)")
            t = [_num(x, f"{path}.table.t[{i}]", 0.0) for i, x in enumerate(t)]
            if np.any(np.diff(t) <= 0):
                raise _err(f"{path}.table.t", "times must increase strictly")
            p = _list(tab["pose"], f"{path}.table.pose", len(t))
            p = [_vec(x, f"{path}.table.pose[{i}]", 6) for i, x in enumerate(p)]
            out[bid] = {"t": t, "pose": p}
        else:
            name = _str(spec["motion"], f"{path}.motion", tuple(MOTIONS))
            _keys(spec, path, ("motion",) + MOTIONS[name])
            out[bid] = _motion_table(name, spec, poses[bid], path)
    return out


def _motion_table(name, spec, start, path) -> dict:
    """Waypoints (t, pose) of a named motion from the body's initial pose."""
    p0 = np.array(start, dtype=float)

    def moved(d):
        return (p0 + np.r_[d, 0, 0, 0]).tolist()

    def dur(k, default=None):
        if k not in spec and default is not None:
            return default
        if k not in spec:
            raise _err(f"{path}.{k}", "is required")
        return _num(spec[k], f"{path}.{k}", 0.0, strict=True)

    def off(k):
        if k not in spec:
            raise _err(f"{path}.{k}", "is required")
        return np.array(_vec(spec[k], f"{path}.{k}", 3))

    if name == "hold":
        return {"t": [0.0], "pose": [p0.tolist()]}
    if name == "linear":
        to = _vec(spec.get("to", None) or [], f"{path}.to", 6)
        t0 = _num(spec.get("start", 0.0), f"{path}.start", 0.0)
        t1 = dur("end")
        if not t1 > t0:
            raise _err(f"{path}.end", f"must be after start ({t0}), got {t1}")
        return {"t": [0.0, t0, t1] if t0 > 0 else [0.0, t1],
                "pose": [p0.tolist(), p0.tolist(), to] if t0 > 0 else [p0.tolist(), to]}
    first, second = ("press", "slide") if name == "press_slide" else ("squeeze", "lift")
    d1, d2 = off(first), off(second)
    t1, th, t2 = dur(f"{first}_time"), dur("hold_time", 0.0), dur(f"{second}_time")
    ts = [0.0, t1, t1 + th, t1 + th + t2]
    ps = [p0.tolist(), moved(d1), moved(d1), moved(d1 + d2)]
    if th == 0:
        ts, ps = ts[:2] + ts[3:], ps[:2] + ps[3:]
    return {"t": ts, "pose": ps}


SCENE_SUFFIXES = (".json", ".yaml", ".yml")


# YAML 1.1 reads 1e-5 (an exponent without a dot) as a string; scene files mean the
# number, as JSON does: the float pattern below also accepts that spelling.
_YAML_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)


def _read_yaml(path: Path, text: str):
    import yaml

    class Loader(yaml.SafeLoader):      # plain dicts, lists, numbers and strings only
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _YAML_FLOAT,
                                 list("-+0123456789."))
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValueError(f"{path}: not valid YAML{where}: "
                         f"{getattr(exc, 'problem', None) or exc}") from None


def load_scene(path) -> dict:
    """Read and validate a scene file: JSON (.json) or YAML (.yaml, .yml)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such scene file: {path}")
    if path.suffix.lower() not in SCENE_SUFFIXES:
        raise ValueError(f"{path}: a scene file ends in one of {list(SCENE_SUFFIXES)}, got "
                         f"{path.suffix or 'no suffix'!r}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column "
                             f"{exc.colno}): {exc.msg}") from None
    else:
        raw = _read_yaml(path, text)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a scene is a mapping of fields (name, time, bodies, ...), "
                         f"got {type(raw).__name__}")
    return validate(raw, base_dir=path.parent)


def example_scenes() -> dict[str, Path]:
    """{name: path} of the scenes shipped with the suite (JSON and YAML)."""
    folder = Path(__file__).resolve().parent.parent / "data" / "scenes"
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix in SCENE_SUFFIXES}


# ----- building and driving -----------------------------------------------------------------
def pose_at(table: dict, t: float) -> np.ndarray:
    """Piecewise-linear interpolation of the waypoints in (position, rotation vector);
    the first pose before the first time and the last one after the last time."""
    ts = np.asarray(table["t"])
    ps = np.asarray(table["pose"])
    return np.array([np.interp(t, ts, ps[:, k]) for k in range(6)])


def n_steps(scene: dict, dt: float) -> int:
    return max(1, int(round(scene["time"]["duration"] / (dt * scene["time"]["substeps"]))))


def build(scene: dict, dt_fraction: float = 0.5, requires_grad: bool = False,
          segment: int = 10):
    """The World of a validated scene and {id: object} of its bodies, pairs and joints.

    With time.dt "auto" the substep is dt_fraction times the stability limit of the bodies
    and contacts (joints take their stiffness from the chosen substep). `requires_grad`
    records the reverse-mode tape in checkpoint segments of `segment` control steps
    (gradients are a property of the run, not of the scene, so the file has no such field).
    """
    from tacsuite.sim.backend import ensure_init, import_taichi
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.ground import Ground
    from tacsuite.sim.joints import Hinge
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.mesh import load_mesh, structured_box
    from tacsuite.sim.rigid import RigidBody
    from tacsuite.sim.rigid_shapes import make_shape
    from tacsuite.sim.world import World

    ensure_init()
    ti = import_taichi()
    dtype = ti.f64 if scene["dtype"] == "float64" else ti.f32
    tm = scene["time"]
    world = World(batch=scene["batch"], dt=1.0 if tm["dt"] == "auto" else tm["dt"],
                  substeps=tm["substeps"], dtype=dtype, gravity=scene["gravity"],
                  requires_grad=requires_grad, segment=segment)
    objs = {}
    for b in scene["bodies"]:
        kind, bid = b["type"], b["id"]
        if kind == "ground":
            objs[bid] = world.add(Ground(bid, normal=b["normal"], point=b["point"]))
        elif kind in ("rigid", "kinematic"):
            s = b["shape"]
            size = {k: v for k, v in s.items() if k not in ("kind", "spacing")}
            shape = make_shape(s["kind"], dtype=dtype, spacing=s.get("spacing"), **size)
            if kind == "rigid":
                objs[bid] = world.add(RigidBody(bid, shape, density=b["density"],
                                                pose=b["pose"], velocity=b["velocity"],
                                                angular_velocity=b["angular_velocity"]))
            else:
                objs[bid] = world.add(KinematicRigid(bid, _indenter(shape), pose=b["pose"]))
            objs[bid].draw_points = shape.points
        elif kind in ("mpm", "cable"):
            from tacsuite.sim.scene_objects import build_object
            objs[bid] = world.add(build_object(b))
        else:
            m = b["mesh"]
            mesh = (structured_box(m["size"], m["cells"]) if m["kind"] == "box"
                    else load_mesh(m["file"]))
            mat = b["material"]
            objs[bid] = world.add(FEMBody(bid, mesh, E=mat["E"], nu=mat["nu"],
                                          density=mat["density"], alpha=mat["alpha"],
                                          pose=b["pose"]))
    for c in scene["contacts"]:
        name = f"{c['a']}-{c['b']}"
        law = dict(kn=c["kn"], kd=c["kd"], kt=c["kt"], mu=c["mu"], name=name)
        if c.get("surface"):
            from tacsuite.sim.surface_pair import SurfacePair
            pair = SurfacePair(objs[c["a"]], objs[c["b"]], cutoff=c.get("cutoff"), **law)
        else:
            pair = ContactPair(objs[c["a"]], objs[c["b"]], **law)
        objs[name] = world.add_pair(pair)
    if tm["dt"] == "auto":
        world.set_dt(dt_fraction * world.stability_limit())
    for j in scene["joints"]:
        objs[j["id"]] = world.add_joint(Hinge(
            j["id"], objs[j["body"]], anchor=j["anchor"], axis=j["axis"],
            other=None if j["other"] is None else objs[j["other"]], limits=j["limits"],
            damping=j["damping"]))
    world.check_stability()
    return world, objs


def _indenter(shape):
    """The kinematic-body SDF of a shape: the analytic indenter, or a mesh grid placed in
    the mesh's principal frame."""
    from tacsuite.sim.sdf_grid import MeshSDFIndenter

    if shape.kind == "mesh":
        return MeshSDFIndenter(shape.grid, name=shape.name, n_tris=shape.n_tris)
    return shape.sdf_obj


def actions_at(scene: dict, step: int, dt: float) -> dict:
    """{body id: pose (6,)} at the end of control step `step` (0-based)."""
    t = (step + 1) * dt * scene["time"]["substeps"]
    return {bid: pose_at(tab, t) for bid, tab in scene["actions"].items()}
