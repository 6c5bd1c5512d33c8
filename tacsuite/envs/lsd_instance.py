"""LSD bandit instances: the JSON format, its validation, and instance generators.

Format (JSON object)::

    {"horizon": 500, "tau_max": 4,
     "arms": [{"satiated": [0.5, 0.4, 0.3, 0.2], "rested": [0.6, 0.7, 0.8, 0.9]}, ...],
     "initial_idle": [4, 4],        # optional, default tau_max for every arm
     "noise": "bernoulli",          # optional: "bernoulli" (default) or "gaussian"
     "sigma": 0.1,                  # optional, gaussian noise only (default 0.1)
     "name": "my instance"}         # optional

An arm played in the previous round whose run has c rounds pays `satiated[min(c, M)-1]`;
any other arm, idle for m rounds, pays `rested[min(m, M)-1]`. `initial_idle[i] = 0` is an
extension: arm i counts as played in the round before the first (signed state -1), which
is how delay-only (recharging) instances that start "just pulled" are written.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TOP_KEYS = {"horizon", "tau_max", "arms", "initial_idle", "noise", "sigma", "name"}
ARM_KEYS = {"satiated", "rested"}
NOISES = ("bernoulli", "gaussian")


def _int(value: Any, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True, eq=False)
class LSDInstance:
    """A validated LSD bandit instance; `satiated`/`rested` are (k, tau_max) arrays."""

    horizon: int
    satiated: np.ndarray
    rested: np.ndarray
    initial_idle: tuple[int, ...]
    noise: str = "bernoulli"
    sigma: float = 0.1
    name: str = ""

    @property
    def k(self) -> int:
        return self.satiated.shape[0]

    @property
    def tau_max(self) -> int:
        return self.satiated.shape[1]

    @property
    def initial_state(self) -> np.ndarray:
        """Signed start state: +min(idle, M), or -1 for an arm with initial_idle 0."""
        idle = np.asarray(self.initial_idle, dtype=np.int64)
        return np.where(idle == 0, -1, np.minimum(idle, self.tau_max))

    @property
    def is_monotone(self) -> bool:
        """satiated non-increasing, rested non-decreasing, min rested >= max satiated."""
        s, r = self.satiated, self.rested
        return bool(np.all(np.diff(s, axis=1) <= 1e-12) and np.all(np.diff(r, axis=1) >= -1e-12)
                    and np.all(r.min(axis=1) >= s.max(axis=1) - 1e-12))

    @property
    def is_delay_only(self) -> bool:
        """True when satiated payoffs are constant per arm (the recharging special case)."""
        return bool(np.all(np.ptp(self.satiated, axis=1) <= 1e-12))

    def delay_payoffs(self) -> np.ndarray:
        """f[i, d-1]: payoff at delay d = 1..M+1 (delay 1 = played in the previous round)."""
        if not self.is_delay_only:
            raise ValueError("delay payoffs exist only when every arm's satiated payoffs are "
                             "constant (a recharging instance)")
        return np.concatenate([self.satiated[:, :1], self.rested], axis=1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "horizon": self.horizon, "tau_max": self.tau_max,
            "arms": [{"satiated": s.tolist(), "rested": r.tolist()}
                     for s, r in zip(self.satiated, self.rested, strict=True)],
            "initial_idle": list(self.initial_idle), "noise": self.noise}
        if self.noise == "gaussian":
            out["sigma"] = self.sigma
        if self.name:
            out["name"] = self.name
        return out

    def with_horizon(self, horizon: int) -> LSDInstance:
        return parse_instance({**self.to_dict(), "horizon": horizon})

    @classmethod
    def from_arrays(cls, satiated, rested, horizon: int, initial_idle=None,
                    noise: str = "bernoulli", sigma: float = 0.1, name: str = "") -> LSDInstance:
        sat = np.asarray(satiated, dtype=np.float64)
        res = np.asarray(rested, dtype=np.float64)
        d: dict[str, Any] = {"horizon": int(horizon), "tau_max": int(sat.shape[-1]),
                             "arms": [{"satiated": s.tolist(), "rested": r.tolist()}
                                      for s, r in zip(sat, res, strict=True)],
                             "noise": noise, "name": name}
        if noise == "gaussian":
            d["sigma"] = sigma
        if initial_idle is not None:
            d["initial_idle"] = [int(v) for v in initial_idle]
        return parse_instance(d)


def parse_instance(data: Any, source: str = "instance") -> LSDInstance:
    """Validate a decoded JSON object; every error names the bad field and what is allowed."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ValueError(f"{source}: unknown keys {unknown}; allowed: {sorted(TOP_KEYS)}")
    for key in ("horizon", "tau_max", "arms"):
        if key not in data:
            raise ValueError(f"{source}: missing required key {key!r}")
    horizon = _int(data["horizon"], f"{source}: horizon", 1)
    M = _int(data["tau_max"], f"{source}: tau_max", 1)
    noise = data.get("noise", "bernoulli")
    if noise not in NOISES:
        raise ValueError(f"{source}: noise {noise!r} is not one of {list(NOISES)}")
    sigma = data.get("sigma", 0.1)
    if "sigma" in data and noise != "gaussian":
        raise ValueError(f"{source}: sigma is only allowed with noise 'gaussian'")
    if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not (
            math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"{source}: sigma must be a positive number, got {sigma!r}")
    arms = data["arms"]
    if not isinstance(arms, list) or not arms:
        raise ValueError(f"{source}: arms must be a non-empty list of "
                         f"{{'satiated': [...], 'rested': [...]}} objects")
    sat = np.empty((len(arms), M))
    res = np.empty((len(arms), M))
    for i, arm in enumerate(arms):
        if not isinstance(arm, dict):
            raise ValueError(f"{source}: arms[{i}] must be an object, got {arm!r}")
        bad = sorted(set(arm) - ARM_KEYS)
        if bad:
            raise ValueError(f"{source}: arms[{i}] has unknown keys {bad}; allowed: "
                             f"{sorted(ARM_KEYS)}")
        for key, dest in (("satiated", sat), ("rested", res)):
            vals = arm.get(key)
            if not isinstance(vals, list) or len(vals) != M:
                got = f"{len(vals)} values" if isinstance(vals, list) else repr(vals)
                raise ValueError(f"{source}: arms[{i}].{key} must be a list of tau_max={M} "
                                 f"numbers, got {got}")
            for j, v in enumerate(vals):
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise ValueError(f"{source}: arms[{i}].{key}[{j}] = {v!r} is not a finite "
                                     f"number")
                if noise == "bernoulli" and not 0.0 <= v <= 1.0:
                    raise ValueError(f"{source}: arms[{i}].{key}[{j}] = {v!r} is outside [0, 1] "
                                     f"(Bernoulli means)")
            dest[i] = vals
    idle = data.get("initial_idle", [M] * len(arms))
    if not isinstance(idle, list) or len(idle) != len(arms):
        raise ValueError(f"{source}: initial_idle must be a list of {len(arms)} integers "
                         f"(one per arm), got {idle!r}")
    idle = tuple(_int(v, f"{source}: initial_idle[{i}]", 0) for i, v in enumerate(idle))
    name = data.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"{source}: name must be a string, got {name!r}")
    sat.flags.writeable = False
    res.flags.writeable = False
    return LSDInstance(horizon, sat, res, idle, noise, float(sigma), name)


def load_instance(source: str | os.PathLike | dict | LSDInstance) -> LSDInstance:
    """An instance from a JSON path, a dict, or an instance (returned unchanged)."""
    if isinstance(source, LSDInstance):
        return source
    if isinstance(source, dict):
        return parse_instance(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"instance file {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    return parse_instance(data, source=str(path))


def random_instance(k: int, tau_max: int, horizon: int, rng: np.random.Generator | int = 0,
                    monotone: bool = True) -> LSDInstance:
    """A random Bernoulli instance. Monotone: each arm draws 2M uniform values scaled by a
    random level; the lower half (descending) is satiated, the upper half (ascending) rested,
    so rested >= satiated. Otherwise all means are i.i.d. uniform."""
    _int(k, "k", 1)
    _int(tau_max, "tau_max", 1)
    rng = np.random.default_rng(rng)
    if monotone:
        vals = np.sort(rng.random((k, 2 * tau_max)), axis=1) * rng.uniform(0.3, 1.0, (k, 1))
        sat, res = vals[:, :tau_max][:, ::-1], vals[:, tau_max:]
    else:
        sat, res = rng.random((k, tau_max)), rng.random((k, tau_max))
    return LSDInstance.from_arrays(sat, res, horizon,
                                   name=f"random{'-monotone' if monotone else ''}")


def random_steep_instance(k: int, tau_max: int, horizon: int,
                          rng: np.random.Generator | int = 0) -> LSDInstance:
    """A random monotone instance where resting matters: rested[m-1] = top (m/M)^p with
    top ~ U(0.4, 1), p ~ U(2, 4), and satiated payoffs below the smallest rested one.
    Playing arms at random or greedily loses most of the reward here."""
    _int(k, "k", 1)
    M = _int(tau_max, "tau_max", 1)
    rng = np.random.default_rng(rng)
    m = np.arange(1, M + 1)
    res = rng.uniform(0.4, 1.0, (k, 1)) * (m / M) ** rng.uniform(2.0, 4.0, (k, 1))
    sat = np.sort(rng.random((k, M)), axis=1)[:, ::-1] * res.min(axis=1, keepdims=True)
    return LSDInstance.from_arrays(sat, res, horizon, name="random-steep")


def recharging_instance(payoffs, horizon: int, initial_delay=None, name: str = ""
                        ) -> LSDInstance:
    """The LSD form of a delay-only instance: f[i, d-1] is arm i's payoff at delay d = 1..D
    (delay 1 = pulled in the previous round), D >= 2. Then tau_max = D - 1, satiated = f(1)
    and rested[m-1] = f(m+1). `initial_delay` defaults to D (fully recharged)."""
    f = np.asarray(payoffs, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] < 2:
        raise ValueError(f"payoffs must be a (k, D) array with D >= 2, got shape {f.shape}")
    k, D = f.shape
    if initial_delay is not None and not isinstance(initial_delay, list | tuple | np.ndarray):
        raise ValueError(f"initial_delay must be {k} integers >= 1, got {initial_delay!r}")
    delays = [D] * k if initial_delay is None else list(initial_delay)
    if len(delays) != k or any(_int(d, "initial_delay", 1) < 1 for d in delays):
        raise ValueError(f"initial_delay must be {k} integers >= 1, got {initial_delay!r}")
    return LSDInstance.from_arrays(np.repeat(f[:, :1], D - 1, axis=1), f[:, 1:], horizon,
                                   initial_idle=[d - 1 for d in delays], name=name)


def random_recharging_instance(k: int, max_delay: int, horizon: int,
                               rng: np.random.Generator | int = 0) -> LSDInstance:
    """Non-decreasing random delay payoffs (the recharging assumption)."""
    rng = np.random.default_rng(rng)
    f = np.sort(rng.random((k, max_delay)), axis=1) * rng.uniform(0.3, 1.0, (k, 1))
    return recharging_instance(f, horizon, name="random-recharging")


def laforgue_instances() -> dict[str, LSDInstance]:
    """The two delay-only instances of Laforgue et al. (AISTATS 2022): their Figure 3
    ("trick" instance, k=5, delays 1..10, T=3600) and supplementary Figure 4 (k=2, T=3300).
    Every arm starts at delay 1 (just pulled)."""
    D = 10
    f1 = np.full((5, D), 0.15)
    f1[1] = 0.0
    f1[1, 2] = 0.95
    f1[2] = 0.14
    f1[2, 5] = 0.16
    f1[2, 8:] = 0.96
    f2 = np.zeros((2, D))
    f2[0] = 0.05
    f2[1] = 0.95
    f2[1, 0] = 0.06
    return {"figure3": recharging_instance(f1, 3600, [1] * 5, name="laforgue-figure3"),
            "figure4": recharging_instance(f2, 3300, [1] * 2, name="laforgue-figure4")}
