"""System identification of a tactile sensor: fit gel and contact parameters to observed
press, slide and twist sequences by differentiating the simulator.

The rig (`Rig`) is a small gel pad (structured tets, bonded bottom, sensor frame at the
world origin) pressed by a rigid sphere whose pose per control step is the motion. Its
read-outs per step are the base wrench (force and torque a load cell under the gel
measures, N and N m) and the image-plane marker displacement (pixels) of `GelReadout`.
Two rigs (config "solver"):

- "static" (`STATIC_CONFIG`, `--rig static`): every control step is a quasi-static
  load step (`world_statics.StaticSolver`, stick/slip friction whose anchors ride on the
  sphere), the model of slowly taken measured data. A slide builds up Cattaneo-Mindlin
  friction and a twist Lubkin's torque; gradients go back through every load step.
  The damping does not enter it.
- "explicit" (`DEFAULT_CONFIG`, the default): the explicit world, mass-scaled (a density
  far above a real gel's) with strong mass damping, 5 substeps a control step. It is
  about 10x faster, but dynamic: friction works against the damping, so the slide's
  friction stays below mu P and a twist transmits almost no torque. Synthetic-to-
  synthetic fits are consistent; measured data want the static rig.

Identifiable parameters: E, nu, damping (the gel's mass damping alpha, 1/s), kn, kt, mu
(`PARAMS`). Each is optimised in an unbounded coordinate z with p = lo + (hi - lo) s(z)
(s the logistic function; log-spaced for the positive ones), so every iterate is valid.

Loss: for each observed signal group g (force, torque, markers), the mean squared
residual divided by the mean square of the observed signal, summed over groups. With
observation noise s (a fraction of each group's RMS) the minimum is about n_groups s^2.

Observation file (`.npz`, written by `synth`, or by a user from measured data):

    config   JSON string: the rig (gel size, cells, sphere radius, camera, substeps, dt...)
             as `Rig.config()` writes it; omitted keys take the defaults
    actions  (T, 6) sphere pose per control step in the sensor frame: x, y, z (m) and a
             rotation vector (rad)
    wrench   (T, 6) base force (N) and torque (N m) in the sensor frame, or absent
    markers  (T, M, 2) marker displacement in pixels, M = mx * my markers in row-major
             order (y rows, x columns), or absent; at least one of wrench, markers
    truth    JSON string of the parameters that made synthetic data (optional)
    noise    the relative noise level used by `synth` (optional)

`load_marker_csv` reads marker tracks from a CSV with columns step, marker, du, dv (one
row per marker and step) into the (T, M, 2) array.
"""

import json
import math
import time

import numpy as np
import torch

from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.readout import Camera, GelReadout

ti = import_taichi()

#: name -> (object, world parameter, default, low, high, log-spaced)
PARAMS = {
    "E": ("gel", "E", 1e5, 2e4, 5e5, True),
    "nu": ("gel", "nu", 0.35, 0.05, 0.45, False),
    "damping": ("gel", "alpha", 800.0, 100.0, 8000.0, True),
    "kn": ("press", "kn", 2e9, 4e8, 1e10, True),
    "kt": ("press", "kt", 2e9, 4e8, 1e10, True),
    "mu": ("press", "mu", 0.5, 0.05, 2.0, True),
}
MOTIONS = ("press", "slide", "twist")
GROUPS = ("force", "torque", "markers")

SOLVERS = ("explicit", "static")
DEFAULT_CONFIG = {
    "solver": "explicit",
    "size": [0.012, 0.012, 0.003], "cells": [6, 6, 2], "radius": 0.005, "density": 2e4,
    "substeps": 5, "steps": 20, "depth": 4e-4, "slide": 1.0e-3, "twist": 0.3,
    "markers": [5, 5], "camera": {"kind": "pinhole", "f": 400.0, "width": 320,
                                  "height": 240, "distance": 0.02},
}
#: The quasi-static rig: 0.5 mm nodes, so about 16 touch the sphere and a twist has a lever.
STATIC_CONFIG = {**DEFAULT_CONFIG, "solver": "static", "size": [0.006, 0.006, 0.003],
                 "cells": [12, 12, 2], "radius": 0.004, "steps": 8, "depth": 3e-4,
                 "slide": 3e-4, "twist": 0.15, "markers": [7, 7]}
RIGS = {"explicit": DEFAULT_CONFIG, "static": STATIC_CONFIG}


def rig_config(config: dict | None = None) -> dict:
    """The full rig config: `config` over the preset of its solver."""
    solver = (config or {}).get("solver", "explicit")
    if solver not in SOLVERS:
        raise ValueError(f"rig solver must be one of {SOLVERS}, got {solver!r}")
    cfg = json.loads(json.dumps(RIGS[solver]))
    unknown = set(config or {}) - set(cfg)
    if unknown:
        raise ValueError(f"unknown rig config keys {sorted(unknown)}; known {sorted(cfg)}")
    cfg.update(json.loads(json.dumps(config or {})))
    return cfg


def check_params(names) -> list[str]:
    names = [n.strip() for n in names if n.strip()]
    bad = [n for n in names if n not in PARAMS]
    if bad or not names:
        raise ValueError(f"parameters to fit must be a non-empty subset of {list(PARAMS)}, "
                         f"got {names}")
    if len(set(names)) != len(names):
        raise ValueError(f"parameter listed twice in {names}")
    return names


def parse_assignments(text: str) -> dict:
    """'E=5e4,nu=0.3' -> {'E': 5e4, 'nu': 0.3} (names checked against PARAMS)."""
    out = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if "=" not in part:
            raise ValueError(f"expected name=value, got {part!r}")
        k, v = part.split("=", 1)
        check_params([k])
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise ValueError(f"value of {k.strip()} must be a number, got {v!r}") from None
    return out


def mirrored_box(size, cells):
    """A structured tet box symmetric under x -> -x and y -> -y (one quadrant of
    `structured_box`, mirrored), so a centred press gives an exactly symmetric field;
    cells along x and y must be even."""
    from tacsuite.sim.mesh import TetMesh, structured_box
    W, L, H = (float(v) for v in size)
    nx, ny, nz = (int(c) for c in cells)
    if nx % 2 or ny % 2 or nx < 2 or ny < 2:
        raise ValueError(f"cells along x and y must be even and >= 2, got {cells!r}")
    q = structured_box((W / 2, L / 2, H), (nx // 2, ny // 2, nz))
    P0 = q.points + np.array([W / 4, L / 4, 0.0])
    pts, tets = [], []
    for sx in (1, -1):
        for sy in (1, -1):
            P = P0 * np.array([sx, sy, 1.0])
            T = q.tets.copy()
            if sx * sy < 0:
                T = T[:, [0, 2, 1, 3]]
            tets.append(T + sum(len(p) for p in pts))
            pts.append(P)
    P = np.concatenate(pts)
    key = np.round(P / (min(W / nx, L / ny, H / nz) * 1e-3)).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    T = first[inverse.reshape(-1)][np.concatenate(tets)]
    used, remap = np.unique(T, return_inverse=True)
    return TetMesh(P[used], remap.reshape(T.shape),
                   meta={"mesher": "mirrored-structured", "size": (W, L, H), "cells": cells})


def motion_actions(motion: str, cfg: dict) -> np.ndarray:
    """(T, 6) sphere poses: press in over the first half (all of it for 'press'), then
    slide along +x or twist about the sensor's z axis."""
    if motion not in MOTIONS:
        raise ValueError(f"motion must be one of {MOTIONS}, got {motion!r}")
    T, H, R = int(cfg["steps"]), cfg["size"][2], cfg["radius"]
    s = np.arange(1, T + 1) / T
    a = np.zeros((T, 6))
    press = np.clip(s / (1.0 if motion == "press" else 0.5), 0, 1)
    later = np.clip(2 * s - 1, 0, 1)
    a[:, 2] = H + R - cfg["depth"] * press
    if motion == "slide":
        a[:, 0] = cfg["slide"] * later
    elif motion == "twist":
        a[:, 5] = cfg["twist"] * later
    return a


class Rig:
    """The gel pad, sphere and contact of an identification; see the module docstring."""

    def __init__(self, config: dict | None = None, dtype=None):
        ensure_init()
        from tacsuite.sim.contact_pair import ContactPair
        from tacsuite.sim.fem_body import FEMBody
        from tacsuite.sim.indenters import Sphere
        from tacsuite.sim.kinematic import KinematicRigid
        from tacsuite.sim.world import World
        self.cfg = cfg = rig_config(config)
        solver = cfg["solver"]
        self.static = None
        dtype = dtype or ti.f64
        self.mesh = mirrored_box(cfg["size"], cfg["cells"])
        self.readout = GelReadout(self.mesh, markers=tuple(cfg["markers"]),
                                  camera=Camera(**cfg["camera"]))
        d = {k: v[2] for k, v in PARAMS.items()}
        self.world = World(batch=1, dt=1e-9, substeps=int(cfg["substeps"]), dtype=dtype,
                           requires_grad=solver == "explicit", segment=int(cfg["steps"]))
        w = self.world
        self.gel = w.add(FEMBody("gel", self.mesh, E=d["E"], nu=d["nu"],
                                 density=cfg["density"], alpha=d["damping"]))
        R = cfg["radius"]
        self.ball = w.add(KinematicRigid("ball", Sphere(R, dtype=dtype),
                                         pose=(0, 0, cfg["size"][2] + R, 0, 0, 0)))
        self.pair = w.add_pair(ContactPair(self.gel, self.ball, kn=d["kn"], kd=0.0, kt=d["kt"],
                                           mu=d["mu"], name="press"))
        if solver == "static":
            from tacsuite.sim.world_statics import StaticSolver
            self.static = StaticSolver(w)
        else:
            # A substep stable for every parameter inside the bounds (the stiffest corner).
            self._set({n: PARAMS[n][4] for n in ("E", "nu", "damping", "kn", "kt")},
                      check=False)
            w.reset()
            w.set_dt(w.stability_limit() * 0.85)
        self._set(d, check=False)
        self.sim_calls = 0
        self.backward_calls = 0

    def config(self) -> dict:
        return json.loads(json.dumps(self.cfg))

    def _set(self, values: dict, check=True) -> None:
        for name, v in values.items():
            obj, key = PARAMS[name][0], PARAMS[name][1]
            if check:
                lo, hi = PARAMS[name][3], PARAMS[name][4]
                if not lo <= v <= hi:
                    raise ValueError(f"{name}={v!r} lies outside its bounds [{lo}, {hi}]")
            self.world.named(obj).set_params(**{key: float(v)})

    # ----- simulation -------------------------------------------------------------------------
    def check_fittable(self, names) -> list[str]:
        names = check_params(names)
        if self.static is not None and "damping" in names:
            raise ValueError("damping does not enter the static rig's equilibria; fit it with "
                             "the explicit rig (config solver 'explicit')")
        return names

    def _rollout(self, a: np.ndarray, values: dict) -> list:
        """Node positions after each control step of the motion a (T, 6) at parameters
        `values` (a new tape, or a new friction history)."""
        world, xs = self.world, []
        world.reset()
        self._set(values)
        for t in range(a.shape[0]):
            if self.static is not None:
                self.static.solve({"ball": a[t][None]}, max_newton=100)
                xs.append(self.gel.positions()[0])
            else:
                world.step({"ball": a[t][None]})
                xs.append(world.io.read(self.gel.x, world.state_slot)[0])
        return xs

    def _reverse(self, g: np.ndarray) -> dict:
        """{object: {parameter: dL/dp}} of the last rollout for dL/dx per step g (T, n, 3)."""
        if self.static is not None:
            return self.static.gradients(dL_dx=g)["params"]
        seeds = {t + 1: {"gel.x": g[t][None]} for t in range(g.shape[0])}
        res = self.world.backward(seeds)["params"]
        return {obj: {k: v[0] for k, v in p.items()} for obj, p in res.items()}

    def states_fn(self, names, fixed: dict | None = None):
        """torch function (actions (T, 6), *values of names) -> node positions (T, n, 3)
        after every control step; its backward is the world's reverse pass (explicit rig)
        or the static solver's adjoint through every load step (static rig). Parameters
        not in names take `fixed`, else their defaults."""
        rig = self
        names = self.check_fittable(names)
        base = {n: PARAMS[n][2] for n in PARAMS}
        base.update(fixed or {})

        class _States(torch.autograd.Function):
            @staticmethod
            def forward(ctx, actions, *values):
                vals = dict(base)
                vals.update({n: float(v) for n, v in zip(names, values, strict=True)})
                rig.sim_calls += 1          # counted whether or not the solves converge
                xs = rig._rollout(actions.detach().numpy(), vals)
                return torch.as_tensor(np.stack(xs))

            @staticmethod
            def backward(ctx, g):
                rig.backward_calls += 1
                res = rig._reverse(g.detach().numpy())
                out = []
                for n in names:
                    obj, key = PARAMS[n][0], PARAMS[n][1]
                    out.append(torch.as_tensor(float(res[obj][key])))
                return (None, *out)

        return lambda actions, *values: _States.apply(actions, *values)

    def signals(self, x: torch.Tensor, E, nu) -> dict:
        """Read-outs of a (T, n, 3) state sequence: {force (T,3), torque (T,3), markers
        (T, M, 2)}."""
        w = self.readout.wrench(x, E, nu)
        return {"force": w[:, :3], "torque": w[:, 3:], "markers": self.readout.marker_flow(x)}

    def simulate(self, actions: np.ndarray, values: dict) -> dict:
        """Forward only: {group: numpy array} for parameters `values` (others default)."""
        full = {n: PARAMS[n][2] for n in ("E", "nu")}
        full.update(values)
        names = list(values)
        with torch.no_grad():
            x = self.states_fn(names)(torch.as_tensor(actions),
                                      *[torch.tensor(float(values[n])) for n in names])
            sig = self.signals(x, full["E"], full["nu"])
        return {k: v.numpy() for k, v in sig.items()}


# ----- observations ---------------------------------------------------------------------------
def synth(values: dict, motion: str, noise: float, seed: int, config: dict | None = None,
          rig: Rig | None = None) -> dict:
    """Synthetic observations of a motion with relative Gaussian noise."""
    if not (noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a finite fraction >= 0, got {noise!r}")
    rig = rig or Rig(config)
    for k, v in values.items():
        check_params([k])
        lo, hi = PARAMS[k][3], PARAMS[k][4]
        if not lo <= v <= hi:
            raise ValueError(f"{k}={v!r} lies outside its bounds [{lo}, {hi}]")
    actions = motion_actions(motion, rig.cfg)
    sig = rig.simulate(actions, values)
    rng = np.random.default_rng(seed)
    wrench = np.concatenate([sig["force"], sig["torque"]], 1)
    rms = lambda a: math.sqrt(float(np.mean(a * a))) or 1.0  # noqa: E731
    for sl in (slice(0, 3), slice(3, 6)):
        wrench[:, sl] += noise * rms(wrench[:, sl]) * rng.standard_normal(wrench[:, sl].shape)
    markers = sig["markers"] + noise * rms(sig["markers"]) * rng.standard_normal(
        sig["markers"].shape)
    return {"config": json.dumps(rig.config()), "actions": actions, "wrench": wrench,
            "markers": markers, "truth": json.dumps(values), "noise": float(noise),
            "motion": motion}


def save_observations(path, obs: dict) -> None:
    import io

    from tacsuite.common import atomic
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in obs.items()})
    atomic.write_bytes(path, buf.getvalue())


def load_observations(path) -> dict:
    """Read and check an observation file (format in the module docstring)."""
    with np.load(path, allow_pickle=False) as z:
        obs = {k: z[k] for k in z.files}
    if "actions" not in obs:
        raise ValueError(f"{path}: observations need 'actions' (T, 6)")
    a = np.asarray(obs["actions"], dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 6 or not np.all(np.isfinite(a)):
        raise ValueError(f"{path}: actions must be finite (T, 6), got {a.shape}")
    obs["actions"] = a
    T = a.shape[0]
    if "wrench" not in obs and "markers" not in obs:
        raise ValueError(f"{path}: observations need 'wrench' (T, 6) and/or 'markers' (T, M, 2)")
    if "wrench" in obs and np.shape(obs["wrench"]) != (T, 6):
        raise ValueError(f"{path}: wrench must have shape ({T}, 6), got {np.shape(obs['wrench'])}")
    if "markers" in obs:
        m = np.asarray(obs["markers"])
        if m.ndim != 3 or m.shape[0] != T or m.shape[2] != 2:
            raise ValueError(f"{path}: markers must have shape ({T}, M, 2), got {m.shape}")
    obs["config"] = json.loads(str(obs["config"])) if "config" in obs else {}
    if "truth" in obs:
        obs["truth"] = json.loads(str(obs["truth"]))
    return obs


def load_marker_csv(path, n_steps: int | None = None, n_markers: int | None = None) -> np.ndarray:
    """Marker tracks from a CSV with header step,marker,du,dv -> (T, M, 2) pixels."""
    import csv
    rows = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"step", "marker", "du", "dv"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise ValueError(f"{path}: marker CSV needs columns {sorted(need)}, got "
                             f"{reader.fieldnames}")
        for r in reader:
            rows.append((int(r["step"]), int(r["marker"]), float(r["du"]), float(r["dv"])))
    if not rows:
        raise ValueError(f"{path}: no marker rows")
    arr = np.array(rows)
    T = int(arr[:, 0].max()) + 1 if n_steps is None else int(n_steps)
    M = int(arr[:, 1].max()) + 1 if n_markers is None else int(n_markers)
    out = np.full((T, M, 2), np.nan)
    for s, m, du, dv in rows:
        if not (0 <= s < T and 0 <= m < M):
            raise ValueError(f"{path}: step {s} / marker {m} outside ({T}, {M})")
        out[s, m] = du, dv
    if np.isnan(out).any():
        raise ValueError(f"{path}: some (step, marker) pairs have no row")
    return out


# ----- the objective --------------------------------------------------------------------------
class Objective:
    """Loss of parameters against observations, in physical and in unbounded coordinates."""

    def __init__(self, obs: dict, names, fixed: dict | None = None, rig: Rig | None = None):
        config = obs.get("config") or {}
        if isinstance(config, str):     # as `synth` returns it, before saving
            config = json.loads(config)
        self.rig = rig or Rig(config)
        if rig is not None:
            want = rig_config(config)
            if want != rig.cfg:
                diff = sorted(k for k in want if want[k] != rig.cfg.get(k))
                raise ValueError(f"the observations were made with another rig: config keys "
                                 f"{diff} differ")
        self.names = self.rig.check_fittable(names)
        self.actions = torch.as_tensor(obs["actions"])
        self.fixed = {n: PARAMS[n][2] for n in PARAMS}
        self.fixed.update(fixed or {})
        self.targets, self.scales = {}, {}
        if "wrench" in obs:
            w = torch.as_tensor(np.asarray(obs["wrench"], dtype=np.float64))
            self.targets["force"], self.targets["torque"] = w[:, :3], w[:, 3:]
        if "markers" in obs:
            m = torch.as_tensor(np.asarray(obs["markers"], dtype=np.float64))
            if m.shape[1] != self.rig.readout.n_markers:
                raise ValueError(f"observations have {m.shape[1]} markers, the rig "
                                 f"{self.rig.readout.n_markers}")
            self.targets["markers"] = m
        for k, v in self.targets.items():
            self.scales[k] = float(torch.mean(v * v)) or 1.0
        self.n_residuals = sum(v.numel() for v in self.targets.values())
        self.failed = 0         # evaluations whose static solve did not converge
        self.fn = self.rig.states_fn(self.names, self.fixed)
        self.lo = np.array([PARAMS[n][3] for n in self.names])
        self.hi = np.array([PARAMS[n][4] for n in self.names])
        self.log = np.array([PARAMS[n][5] for n in self.names])

    # coordinates
    def to_params(self, z):
        """Unbounded z (torch or numpy) -> physical parameters."""
        if isinstance(z, torch.Tensor):
            s = torch.sigmoid(z)
            lo, hi, lg = (torch.as_tensor(a) for a in (self.lo, self.hi, self.log))
            return torch.where(lg, torch.exp(torch.log(lo) + s * torch.log(hi / lo)),
                               lo + s * (hi - lo))
        s = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
        return np.where(self.log, np.exp(np.log(self.lo) + s * np.log(self.hi / self.lo)),
                        self.lo + s * (self.hi - self.lo))

    def to_z(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        if np.any(p <= self.lo) or np.any(p >= self.hi):
            raise ValueError(f"parameters {dict(zip(self.names, p.tolist(), strict=True))} must "
                             f"lie strictly inside the bounds {self.bounds()}")
        s = np.where(self.log, np.log(p / self.lo) / np.log(self.hi / self.lo),
                     (p - self.lo) / (self.hi - self.lo))
        return np.log(s / (1 - s))

    def bounds(self) -> dict:
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, self.lo, self.hi,
                                                           strict=True)}

    # evaluations
    def _signals(self, p: torch.Tensor):
        x = self.fn(self.actions, *[p[i] for i in range(len(self.names))])
        vals = dict(self.fixed)
        vals.update({n: p[i] for i, n in enumerate(self.names)})
        return self.rig.signals(x, vals["E"], vals["nu"])

    def _loss(self, sig) -> torch.Tensor:
        return sum(torch.mean((sig[k] - v) ** 2) / self.scales[k]
                   for k, v in self.targets.items())

    def value(self, z) -> float:
        """The loss at z; inf where the static rig's solve does not converge (counted in
        `failed`), so a search ranks such a point last instead of stopping."""
        from tacsuite.sim.statics import NotConverged
        with torch.no_grad():
            p = self.to_params(torch.as_tensor(np.asarray(z, dtype=np.float64)))
            try:
                return float(self._loss(self._signals(p)))
            except NotConverged:
                self.failed += 1
                return math.inf

    def value_and_grad(self, z) -> tuple[float, np.ndarray]:
        """Loss and gradient at z; (inf, 0) where a solve does not converge (see value)."""
        from tacsuite.sim.statics import NotConverged
        zt = torch.as_tensor(np.asarray(z, dtype=np.float64)).clone().requires_grad_(True)
        try:
            loss = self._loss(self._signals(self.to_params(zt)))
            loss.backward()
        except NotConverged:
            self.failed += 1
            return math.inf, np.zeros(len(self.names))
        return float(loss.detach()), zt.grad.numpy().copy()

    def residuals(self, p: np.ndarray) -> np.ndarray:
        """Normalised residual vector at physical parameters p (forward only)."""
        with torch.no_grad():
            sig = self._signals(torch.as_tensor(np.asarray(p, dtype=np.float64)))
            return torch.cat([((sig[k] - v) / math.sqrt(self.scales[k] * v.numel())).reshape(-1)
                              for k, v in self.targets.items()]).numpy()

    def fitted_signals(self, p) -> dict:
        with torch.no_grad():
            sig = self._signals(torch.as_tensor(np.asarray(p, dtype=np.float64)))
        return {k: v.numpy() for k, v in sig.items()}

    def calls(self) -> int:
        """Simulator passes so far (a forward rollout and a reverse pass count one each)."""
        return self.rig.sim_calls + self.rig.backward_calls


def laplace_stderr(obj: Objective, p: np.ndarray, rel_step: float = 1e-4) -> np.ndarray:
    """Gauss-Newton (Laplace) standard errors of the physical parameters at p.

    J: central differences of the weighted residuals r (2 k forward runs). The signal
    groups have their own noise levels, so the noise variance of each group is estimated
    from its residuals, and the covariance is the sandwich of the weighted least-squares
    estimate, (J^T J)^-1 J^T S J (J^T J)^-1 with S = diag(group variances).
    """
    p = np.asarray(p, dtype=np.float64)
    r0 = obj.residuals(p)
    cols = []
    for i in range(len(p)):
        h = rel_step * max(abs(p[i]), 1e-3)
        up, dn = p.copy(), p.copy()
        up[i] += h
        dn[i] -= h
        cols.append((obj.residuals(up) - obj.residuals(dn)) / (2 * h))
    J = np.stack(cols, 1)
    k = len(p)
    var = np.empty_like(r0)
    start = 0
    sizes = [v.numel() for v in obj.targets.values()]
    for n in sizes:
        seg = r0[start:start + n]
        var[start:start + n] = float(seg @ seg) / max(n - k * n / sum(sizes), 1)
        start += n
    A = np.linalg.pinv(J.T @ J)
    cov = A @ (J.T @ (var[:, None] * J)) @ A
    return np.sqrt(np.clip(np.diag(cov), 0, None))


# ----- optimisers -----------------------------------------------------------------------------
class Trace:
    """Best-so-far loss and parameters against simulator calls and seconds."""

    def __init__(self, obj: Objective):
        self.obj, self.t0, self.rows = obj, time.perf_counter(), []
        self.c0 = obj.calls()     # the rig's counters may carry earlier fits' calls
        self.best, self.best_z = math.inf, None

    def add(self, loss: float, z) -> None:
        if loss < self.best:
            self.best, self.best_z = float(loss), np.array(z, dtype=np.float64)
        self.rows.append({"calls": self.obj.calls() - self.c0,
                          "seconds": time.perf_counter() - self.t0,
                          "loss": float(loss) if math.isfinite(loss) else None,
                          "best": self.best if math.isfinite(self.best) else None,
                          "params": self.obj.to_params(np.asarray(z)).tolist()})


class BudgetSpent(Exception):
    pass


def fit_grad(obj: Objective, z0: np.ndarray, budget: int, optimizer="lbfgs", restarts=1,
             seed=0, trace: Trace | None = None, lr=0.2) -> Trace:
    """L-BFGS (scipy, on the unbounded coordinates) or Adam from z0 and restarts - 1
    perturbed starts, sharing a budget of simulator calls."""
    from scipy.optimize import minimize
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    trace = trace or Trace(obj)
    rng = np.random.default_rng(seed)
    start_calls = obj.calls()
    per = budget / max(int(restarts), 1)

    def f(z):
        if obj.calls() - start_calls + 2 > budget:
            raise BudgetSpent
        loss, g = obj.value_and_grad(z)
        trace.add(loss, z)
        return loss, g

    for r in range(max(int(restarts), 1)):
        z = np.array(z0, dtype=np.float64) + (0 if r == 0 else rng.normal(0, 0.7, len(z0)))
        limit = start_calls + per * (r + 1)
        try:
            if optimizer == "lbfgs":
                minimize(f, z, jac=True, method="L-BFGS-B",
                         options={"maxiter": 10**6, "maxfun": max(int(per // 2), 1),
                                  "ftol": 1e-14, "gtol": 1e-12})
            else:
                m, v = np.zeros_like(z), np.zeros_like(z)
                for it in range(1, 10**6):
                    if obj.calls() + 2 > limit:
                        break
                    _, g = f(z)
                    m = 0.9 * m + 0.1 * g
                    v = 0.999 * v + 0.001 * g * g
                    z = z - lr * (m / (1 - 0.9**it)) / (np.sqrt(v / (1 - 0.999**it)) + 1e-12)
        except BudgetSpent:
            break
    return trace


def fit_cmaes(obj: Objective, z0: np.ndarray, budget: int, seed=0, sigma0=0.7,
              trace: Trace | None = None) -> Trace:
    """CMA-ES (the `cma` package) on the unbounded coordinates, forward runs only."""
    try:
        import cma
    except ImportError as e:
        raise ValueError("--method cmaes needs the 'cma' package: pip install "
                         "'tacsuite[sysid]'") from e
    trace = trace or Trace(obj)
    start = obj.calls()
    es = cma.CMAEvolutionStrategy(list(np.asarray(z0, dtype=np.float64)), sigma0,
                                  {"seed": int(seed) + 1, "verbose": -9,
                                   "maxfevals": int(budget), "tolfun": 1e-15,
                                   "tolx": 1e-12})
    while not es.stop() and obj.calls() - start < budget:
        xs = es.ask()
        fs = []
        for x in xs:
            if obj.calls() - start >= budget:
                break
            val = obj.value(x)
            trace.add(val, x)
            fs.append(val)
        if len(fs) < len(xs):
            break
        es.tell(xs, fs)
    return trace


def fit_random(obj: Objective, budget: int, seed=0, trace: Trace | None = None) -> Trace:
    """Uniform random search in the bounded box (uniform in log for log-spaced ones)."""
    trace = trace or Trace(obj)
    rng = np.random.default_rng(seed)
    start = obj.calls()
    while obj.calls() - start < budget:
        s = rng.uniform(1e-6, 1 - 1e-6, len(obj.names))
        z = np.log(s / (1 - s))
        trace.add(obj.value(z), z)
    return trace


def fit(obs: dict, names, init: dict, method="grad", budget=60, optimizer="lbfgs",
        restarts=1, seed=0, stderr=True, rig: Rig | None = None) -> dict:
    """Fit `names` to observations; returns the result dict of `tacsuite sysid fit`."""
    names = check_params(names)
    if method not in ("grad", "cmaes", "random"):
        raise ValueError(f"method must be grad, cmaes or random, got {method!r}")
    if int(budget) < 4:
        raise ValueError(f"budget must be at least 4 simulator calls, got {budget!r}")
    missing = [n for n in names if n not in init]
    if missing:
        raise ValueError(f"--init needs a start value for {missing}")
    fixed = {k: v for k, v in init.items() if k not in names}
    obj = Objective(obs, names, fixed=fixed, rig=rig)
    z0 = obj.to_z([init[n] for n in names])
    t0 = time.perf_counter()
    trace = Trace(obj)
    if method == "grad":
        fit_grad(obj, z0, int(budget), optimizer=optimizer, restarts=restarts, seed=seed,
                 trace=trace)
    elif method == "cmaes":
        fit_cmaes(obj, z0, int(budget), seed=seed, trace=trace)
    else:
        fit_random(obj, int(budget), seed=seed, trace=trace)
    seconds = time.perf_counter() - t0
    calls = obj.calls() - trace.c0
    if trace.best_z is None:
        raise ValueError(f"no evaluation of the {method} fit converged ({obj.failed} static "
                         "solves failed); start nearer the data or narrow the bounds")
    p = obj.to_params(trace.best_z)
    se = laplace_stderr(obj, p) if stderr else np.full(len(p), np.nan)
    return {"method": method, "optimizer": optimizer if method == "grad" else None,
            "params": names, "fitted": dict(zip(names, p.tolist(), strict=True)),
            "stderr": dict(zip(names, se.tolist(), strict=True)),
            "loss": trace.best, "iterations": len(trace.rows), "sim_calls": calls,
            "failed_calls": obj.failed,
            "seconds": seconds, "init": {n: init[n] for n in names},
            "truth": obs.get("truth"), "bounds": obj.bounds(), "trace": trace.rows,
            "_objective": obj}
