"""Fail fast: check env ids, `--env-kwargs` and numeric options before any work starts.

Every command calls these at its start, so a typo costs a second and an error naming the
option and what it allows, never a traceback after a finished training run.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class MissingExtra(ImportError):
    """An optional dependency is absent; the message names the extra that installs it."""


def require(module: str, extra: str, what: str):
    """Import `module` or raise MissingExtra naming `pip install 'tacsuite[extra]'`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(f"{what} needs {module}: pip install 'tacsuite[{extra}]'") from exc


def option(name: str) -> str:
    """The command-line spelling of a config field (tyro turns `_` into `-`)."""
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class Interval:
    """The allowed range of a numeric option (each element of a tuple option)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below

    def __str__(self) -> str:
        if self.hi == math.inf:
            return f"> {self.lo:g}" if self.lo_open else f">= {self.lo:g}"
        if self.lo == -math.inf:
            return f"< {self.hi:g}" if self.hi_open else f"<= {self.hi:g}"
        return (f"in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}"
                f"{')' if self.hi_open else ']'}")


POSITIVE = Interval(0.0, lo_open=True)
NON_NEGATIVE = Interval(0.0)
AT_LEAST_ONE = Interval(1.0)
UNIT = Interval(0.0, 1.0)
OPEN_UNIT = Interval(0.0, 1.0, True, True)


def check_numbers(config: Any, limits: Mapping[str, Interval] | None = None) -> None:
    """Every float option finite; every option named in `limits` inside its interval."""
    limits = dict(getattr(config, "LIMITS", {}) if limits is None else limits)
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        items = value if isinstance(value, tuple | list) else (value,)
        for x in items:
            if isinstance(x, bool) or not isinstance(x, int | float):
                continue
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"{option(f.name)} must be a finite number, got {x}")
            if f.name in limits and x not in limits[f.name]:
                raise ValueError(f"{option(f.name)} must be {limits[f.name]}, got {value!r}")


def env_spec(env_id: str):
    """The registered spec of `env_id`, or an error naming how to list the ids."""
    import gymnasium as gym

    import tacsuite  # noqa: F401  (registers the suite's envs)

    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"--env must be an environment id, got {env_id!r}")
    try:
        return gym.spec(env_id)
    except gym.error.Error as exc:
        from tacsuite.envs.registration import ENVS

        for entry in ENVS:
            if entry.id == env_id and entry.extra and not entry.available():
                raise MissingExtra(f"{env_id} needs the {entry.extra} extra: pip install "
                                   f"'tacsuite[{entry.extra}]'") from None
        raise ValueError(f"unknown environment id {env_id!r} (`tacsuite envs` lists the "
                         f"suite's ids): {exc}") from None


def _allowed(annotation: Any) -> tuple[type, ...] | None:
    """Python types a literal may have for an annotation; None when not checkable."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arg in typing.get_args(annotation):
            allowed = _allowed(arg)
            if allowed is None:
                return None
            out += allowed
        return tuple(out)
    if origin is typing.Literal:
        return tuple({type(a) for a in typing.get_args(annotation)})
    base = origin or annotation
    if base is type(None):
        return (type(None),)
    if base is float:
        return (float, int)
    if base in (int, bool, str):
        return (base,)
    if base in (tuple, list, typing.Sequence, collections.abc.Sequence):
        return (tuple, list)
    return None


def check_env_kwargs(env_id: str, kwargs: Mapping[str, Any]) -> None:
    """Keys and literal types of `--env-kwargs` against the env constructor's signature."""
    from gymnasium.envs.registration import load_env_creator

    spec = env_spec(env_id)
    if not kwargs:
        return
    creator = load_env_creator(spec.entry_point) if isinstance(spec.entry_point, str) \
        else spec.entry_point
    target = creator.__init__ if inspect.isclass(creator) else creator
    try:
        params = dict(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return
    params.pop("self", None)
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                           p.KEYWORD_ONLY)]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"--env-kwargs: {env_id} takes no argument {', '.join(unknown)}; "
                         f"it takes: {', '.join(allowed) or 'none'}")
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        hints = {}
    for key, value in kwargs.items():
        p = params[key]
        types = _allowed(hints.get(key, p.annotation))
        if types is None and p.default not in (inspect.Parameter.empty, None):
            types = _allowed(type(p.default))
        if types is None:
            continue
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            names = "/".join(sorted({t.__name__ for t in types}))
            raise ValueError(f"--env-kwargs {key}={value!r}: {env_id} expects {names}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"--env-kwargs {key}={value!r} must be a finite number")
