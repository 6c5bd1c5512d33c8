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
