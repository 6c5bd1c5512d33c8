"""Sweep specs: which `tacsuite train` runs a sweep holds, checked before any trial starts.

A spec (YAML or JSON) is a mapping:

    command: train            # the `tacsuite` command every trial runs
    algo: [lsvi-ucb, dr-rpo]  # one or more `tacsuite train` algorithms, or a mapping
                              # {algo: {its own options}} (e.g. {iql: {steps: 2000}})
    options:                  # fixed options of every trial (Config field names)
      env: tacsuite/SimulatedLinearMDP-v0
      episodes: 20
    grid:                     # every combination of these values
      lam: [0.1, 1.0]
    random:                   # and/or `n` draws (seeded) from these ranges
      n: 2
      seed: 0
      space: {bonus_scale: {uniform: [0.5, 2.0]}}
    seeds: [0, 1, 2]          # each option set runs once per seed

    resources: {cpu: 1, gpu: 0}   # per trial (Ray schedules by them; local sets threads)

`command` is `train` (algo = a `tacsuite train` algorithm) or `lsd learn` (algo = its
`--algo`; `instance` goes in options). `train` trials also take `tensorboard: true`.

A trial is one (algo, options, seed); its run folder is named by the options that vary
and its seed, so the same spec always maps to the same folders (that is what makes a
sweep resumable).
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import re
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np

TOP_KEYS = ("command", "algo", "options", "grid", "random", "seeds", "resources")
# Options the sweep owns: each trial's folder and seed come from the spec's layout.
RESERVED = ("out", "seed", "overwrite", "resume")


class SpecError(ValueError):
    """A sweep spec that cannot run (the CLI prints it and exits 2)."""


@dataclasses.dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # `tacsuite WORDS ...`
    algo_flag: str | None  # None: the algorithm is the word after WORDS; else this option
    positional: tuple[str, ...] = ()  # options given by position, in this order
    extra: tuple[tuple[str, type], ...] = ()  # flags of the command beyond the Config


COMMANDS = {
    "train": Command(("train",), None, extra=(("tensorboard", bool),)),
    "lsd learn": Command(("lsd", "learn"), "algo", positional=("instance",)),
}


@dataclasses.dataclass(frozen=True)
class Trial:
    algo: str
    options: dict[str, Any]
    seed: int
    name: str
    command: str = "train"

    def argv(self, out: str) -> list[str]:
        cmd = COMMANDS[self.command]
        args = list(cmd.words)
        args += [self.algo] if cmd.algo_flag is None else []
        args += [str(self.options[k]) for k in cmd.positional if k in self.options]
        if cmd.algo_flag is not None:
            args += ["--" + cmd.algo_flag.replace("_", "-"), self.algo]
        for key, value in self.options.items():
            if key in cmd.positional:
                continue
            flag = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                if key in dict(cmd.extra):
                    args += [flag] if value else []
                else:
                    args.append(flag if value else "--no-" + key.replace("_", "-"))
            elif isinstance(value, list):
                args += [flag, *map(str, value)]
            else:
                args += [flag, str(value)]
        return args + ["--seed", str(self.seed), "--out", out]


def load(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep spec {str(path)!r} does not exist")
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"sweep spec {path}: not valid YAML: {exc}") from None
    elif path.suffix == ".json":
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"sweep spec {path}: not valid JSON: {exc}") from None
    else:
        raise SpecError(f"sweep spec {path}: suffix {path.suffix!r} not allowed; use .yaml, "
                        ".yml or .json")
    if not isinstance(spec, dict):
        raise SpecError(f"sweep spec {path}: must be a mapping of {', '.join(TOP_KEYS)}")
    return spec


def _fields(command: str, algo: str) -> dict[str, Any]:
    if command == "train":
        from tacsuite.commands.train import TRAINERS as table
    else:
        from tacsuite.commands.lsd import LEARNER_CONFIGS as table
    if algo not in table:
        raise SpecError(f"spec field 'algo': unknown algorithm {algo!r} for {command!r}; "
                        f"choose from {', '.join(table)}")
    if command == "train":
        cls = importlib.import_module(table[algo]).Config
    else:
        from tacsuite.commands.lsd import LearnConfig as cls
    hints = typing.get_type_hints(cls)
    fields = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    fields.pop(COMMANDS[command].algo_flag or "", None)
    return {**fields, **dict(COMMANDS[command].extra)}


def resources(spec: dict) -> dict[str, float]:
    """Per-trial {"cpu", "gpu"} of a spec (default one CPU, no GPU)."""
    res = spec.get("resources") or {}
    if not isinstance(res, dict):
        raise SpecError("spec field 'resources': needs a mapping like {cpu: 1, gpu: 0}")
    out = {"cpu": 1.0, "gpu": 0.0}
    for key, value in res.items():
        if key not in out:
            raise SpecError(f"spec field 'resources.{key}': unknown; allowed are cpu, gpu")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                key == "cpu" and value == 0):
            raise SpecError(f"spec field 'resources.{key}': needs a number "
                            f"{'> 0' if key == 'cpu' else '>= 0'}, got {value!r}")
        out[key] = float(value)
    return out


def _check_value(field: str, where: str, value: Any, hint: Any) -> None:
    origin = typing.get_origin(hint)
    if origin is tuple and typing.get_args(hint)[-1:] == (Ellipsis,):  # e.g. hidden sizes
        if not (isinstance(value, list) and value):
            raise SpecError(f"spec field {where}: option {field!r} needs a non-empty list, got "
                            f"{value!r}")
        for v in value:
            _check_value(field, where, v, typing.get_args(hint)[0])
        return
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise SpecError(f"spec field {where}: {value!r} not allowed for {field!r}; choose "
                            f"from {', '.join(map(repr, allowed))}")
        return
    ok = {bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str)}.get(hint)
    if ok is None:
        raise SpecError(f"spec field {where}: option {field!r} has type {hint} that a sweep "
                        "cannot set; sweep int, float, bool, str or choice options")
    if not ok(value):
        raise SpecError(f"spec field {where}: {value!r} is a {type(value).__name__}, option "
                        f"{field!r} needs {hint.__name__}")


def _draw(space: dict, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    draws: list[dict] = [{} for _ in range(n)]
    for key, dist in space.items():
        if not (isinstance(dist, dict) and len(dist) == 1):
            raise SpecError(f"spec field 'random.space.{key}': needs one of uniform: [lo, hi], "
                            "loguniform: [lo, hi], choice: [values]")
        (kind, args), = dist.items()
        if kind in ("uniform", "loguniform"):
            if not (isinstance(args, list) and len(args) == 2 and args[0] < args[1]):
                raise SpecError(f"spec field 'random.space.{key}.{kind}': needs [lo, hi] with "
                                f"lo < hi, got {args!r}")
            lo, hi = (np.log(args[0]), np.log(args[1])) if kind == "loguniform" else args
            for d in draws:
                x = float(rng.uniform(lo, hi))
                d[key] = round(float(np.exp(x)) if kind == "loguniform" else x, 6)
        elif kind == "choice":
            if not (isinstance(args, list) and args):
                raise SpecError(f"spec field 'random.space.{key}.choice': needs a non-empty "
                                "list")
            for d in draws:
                d[key] = args[int(rng.integers(len(args)))]
        else:
            raise SpecError(f"spec field 'random.space.{key}': unknown distribution {kind!r}; "
                            "choose from uniform, loguniform, choice")
    return draws


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", str(value)).strip("_") or "x"


def trials(spec: dict) -> list[Trial]:
    """Every trial of a spec, in a fixed order; raises SpecError naming the bad field."""
    for key in spec:
        if key not in TOP_KEYS:
            raise SpecError(f"spec field {key!r}: unknown; allowed fields are "
                            f"{', '.join(TOP_KEYS)}")
    command = spec.get("command")
    if command not in COMMANDS:
        raise SpecError(f"spec field 'command': {command!r} not supported; a sweep runs "
                        f"{' or '.join(map(repr, COMMANDS))}")
    resources(spec)
    algos = spec.get("algo")
    algos = [algos] if isinstance(algos, str) else algos
    per_algo: dict = {}
    if isinstance(algos, dict):  # {algo: {its own options}}
        per_algo = {a: o or {} for a, o in algos.items()}
        for a, o in per_algo.items():
            if not isinstance(o, dict):
                raise SpecError(f"spec field 'algo.{a}': needs a mapping of that algorithm's "
                                f"options, got {o!r}")
        algos = list(per_algo)
    if not (isinstance(algos, list) and algos and all(isinstance(a, str) for a in algos)):
        raise SpecError("spec field 'algo': needs an algorithm name, a non-empty list, or a "
                        "mapping of algorithm names to their own options")
    seeds = spec.get("seeds", [0])
    if not (isinstance(seeds, list) and seeds and
            all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise SpecError(f"spec field 'seeds': needs a non-empty list of integers >= 0, got "
                        f"{seeds!r}")
    fixed = spec.get("options") or {}
    grid = spec.get("grid") or {}
    rand = spec.get("random")
    for name, part in (("options", fixed), ("grid", grid)):
        if not isinstance(part, dict):
            raise SpecError(f"spec field {name!r}: needs a mapping of option names")
    for key, values in grid.items():
        if not (isinstance(values, list) and values):
            raise SpecError(f"spec field 'grid.{key}': needs a non-empty list of values, got "
                            f"{values!r}")
    combos = [dict(zip(grid, vals, strict=True)) for vals in itertools.product(*grid.values())]
    if rand is not None:
        if not (isinstance(rand, dict) and isinstance(rand.get("n"), int) and rand["n"] > 0
                and isinstance(rand.get("space"), dict) and rand["space"]):
            raise SpecError("spec field 'random': needs n (an integer > 0) and a non-empty "
                            "space")
        draws = _draw(rand["space"], rand["n"], int(rand.get("seed", 0)))
        combos = [{**c, **d} for c in combos for d in draws]
    varying = set(grid) | set((rand or {}).get("space", {}))
    out: list[Trial] = []
    names: dict[str, str] = {}
    for algo in algos:
        fields = _fields(command, algo)
        own = per_algo.get(algo, {})
        for combo in combos:
            opts = {**fixed, **own, **combo}
            for key, value in opts.items():
                where = f"'grid.{key}'" if key in grid else (
                    f"'random.space.{key}'" if key in varying else
                    f"'algo.{algo}.{key}'" if key in own else f"'options.{key}'")
                if key in RESERVED:
                    raise SpecError(f"spec field {where}: {key!r} is set by the sweep itself "
                                    "(use 'seeds' for seeds; folders come from --out)")
                if key not in fields:
                    allowed = ", ".join(k for k in fields if k not in RESERVED)
                    raise SpecError(f"spec field {where}: unknown option {key!r} for {algo}; "
                                    f"options are {allowed}")
                _check_value(key, where, value, fields[key])
            for seed in seeds:
                parts = [_slug(algo)] + [f"{k}={_slug(opts[k])}" for k in sorted(varying)]
                name = ",".join(parts + [f"seed={seed}"])
                key = json.dumps([algo, opts, seed], sort_keys=True)
                if name in names:
                    raise SpecError(f"spec field 'grid'/'seeds': duplicate trial {name!r} "
                                    "(the same options and seed appear twice)")
                names[name] = key
                out.append(Trial(algo, opts, seed, name, command))
    return out


def changed_fields(old: dict, new: dict) -> list[str]:
    """Fields other than `seeds` in which two specs differ: a sweep folder finished under
    `old` holds trials that are stale under `new` although they carry the same names."""
    return sorted(k for k in set(old) | set(new) if k != "seeds" and old.get(k) != new.get(k))
