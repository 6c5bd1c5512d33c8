"""Action checks shared by every environment: bad actions fail loudly, never silently.

Each check raises `ValueError` naming the offending value and the space it had to be in,
so a wrong policy output is caught at the env boundary rather than deep inside a kernel.
"""

from __future__ import annotations

import numbers

import numpy as np
from gymnasium import spaces


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def check_discrete(action, space: spaces.Discrete) -> int:
    arr = np.asarray(action)
    if arr.shape != ():
        raise ValueError(f"action {_short(action)} has shape {arr.shape}; {space} expects "
                         f"a scalar integer")
    if not (isinstance(action, numbers.Integral) or np.issubdtype(arr.dtype, np.integer)):
        if isinstance(action, numbers.Real) and np.isfinite(action) and float(action).is_integer():
            action = int(action)
        else:
            raise ValueError(f"action {_short(action)} is not an integer; {space} expects an "
                             f"integer in [{space.start}, {space.start + space.n - 1}]")
    a = int(action)
    if not space.start <= a < space.start + space.n:
        raise ValueError(f"action {a} is out of range; {space} allows "
                         f"[{space.start}, {space.start + space.n - 1}]")
    return a


def check_box(action, space: spaces.Box) -> np.ndarray:
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"action {_short(action)} is not numeric; expected {space}") from exc
    if arr.shape != space.shape:
        raise ValueError(f"action {_short(action)} has shape {arr.shape}; {space} expects "
                         f"shape {space.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"action {_short(action)} contains NaN or inf; expected {space}")
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    tol = 1e-6 * np.maximum(1.0, np.abs(high - low))
    bad = (arr < low - tol) | (arr > high + tol)
    if np.any(bad):
        raise ValueError(f"action {_short(action)} is outside {space} at indices "
                         f"{np.flatnonzero(bad.ravel()).tolist()}")
    return np.clip(arr, low, high)  # only float round-off beyond the bounds is clipped


def check_multi_discrete(action, space: spaces.MultiDiscrete) -> np.ndarray:
    arr = np.asarray(action)
    if arr.shape != space.shape:
        raise ValueError(f"action {_short(action)} has shape {arr.shape}; {space} expects "
                         f"shape {space.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
                and np.all(arr == np.round(arr))):
            raise ValueError(f"action {_short(action)} is not integer-valued; expected {space}")
        arr = arr.astype(np.int64)
    if np.any(arr < space.start) or np.any(arr >= space.start + space.nvec):
        raise ValueError(f"action {_short(action)} is out of range for {space}")
    return arr.astype(np.int64)


def check_action(space: spaces.Space, action):
    """Validate `action` against `space` and return it in canonical form."""
    if isinstance(space, spaces.Discrete):
        return check_discrete(action, space)
    if isinstance(space, spaces.Box):
        return check_box(action, space)
    if isinstance(space, spaces.MultiDiscrete):
        return check_multi_discrete(action, space)
    if not space.contains(action):
        raise ValueError(f"action {_short(action)} is not in {space}")
    return action


def check_vector_actions(actions, space: spaces.Space, n: int) -> np.ndarray:
    """The actions of n environments, one per row, each checked against `space` (the
    single env's); errors name the environment, the value and what was allowed."""
    if not isinstance(space, spaces.Box):
        rows = list(actions) if np.ndim(actions) else []
        if len(rows) != n:
            raise ValueError(f"actions {_short(actions)} hold {len(rows)} entries; {n} "
                             f"environments expect one action each in {space}")
        out = []
        for i, a in enumerate(rows):
            try:
                out.append(check_action(space, a))
            except ValueError as exc:
                raise ValueError(f"environment {i}: {exc}") from None
        return np.asarray(out)
    shape = (n,) + space.shape
    try:
        arr = np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"actions {_short(actions)} are not numeric; {n} environments of "
                         f"{space} expect shape {shape}") from exc
    if arr.shape != shape:
        raise ValueError(f"actions {_short(actions)} have shape {arr.shape}; {n} "
                         f"environments of {space} expect shape {shape}")
    bad = ~np.isfinite(arr.reshape(n, -1))
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(f"action of environment {i} contains NaN or inf: "
                         f"{_short(arr[i].tolist())}; each action must be finite and in {space}")
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    tol = 1e-6 * np.maximum(1.0, np.abs(high - low))
    out = ((arr < low - tol) | (arr > high + tol)).reshape(n, -1)
    if out.any():
        i, k = (int(v) for v in np.argwhere(out)[0])
        v = float(arr[i].ravel()[k])
        raise ValueError(f"action of environment {i} is outside {space}: "
                         f"{_short(arr[i].tolist())} has {v!r} at index {k}, allowed "
                         f"[{float(low.ravel()[k])}, {float(high.ravel()[k])}]")
    return np.clip(arr, low, high)  # only float round-off beyond the bounds is clipped


# Constructor arguments: every env checks its kwargs with these, so a bad value fails at
# gym.make with ValueError naming the argument and what it may be (NaN and inf included).

def check_real(name: str, value, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (bool refused) within [low, high] (open ends as flagged)."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    allowed = (f"a finite number in {lo}{'-inf' if low is None else low}, "
               f"{'inf' if high is None else high}{hi}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {allowed}, got {_short(value)}")
    v = float(value)
    if not np.isfinite(v) or (low is not None and (v < low or (low_open and v == low))) or (
            high is not None and (v > high or (high_open and v == high))):
        raise ValueError(f"{name} must be {allowed}, got {_short(value)}")
    return v


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """An integer (bool and integral floats refused) within [low, high]."""
    where = (f" >= {low}" if high is None else f" in [{low}, {high}]") if low is not None \
        else (f" <= {high}" if high is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer{where}, got {_short(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer{where}, got {_short(value)}")
    return v


def check_flag(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {_short(value)}")
    return bool(value)


def check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {_short(value)}")
    return value
