"""Lazy, once-per-process Taichi start-up.

`import tacsuite` never starts Taichi (that would make the import slow and unsafe to fork).
Simulator classes call `ensure_init()` before they allocate fields. The architecture comes
from `TACSUITE_ARCH` (`cpu` by default; `cuda` or `vulkan` where the machine has them).
Asking for an architecture the machine lacks is an error, not a silent fall-back to CPU.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings

ARCHS = ("cpu", "cuda", "vulkan")
_lock = threading.Lock()
_state: dict[str, object] = {}


def requested_arch() -> str:
    arch = os.environ.get("TACSUITE_ARCH", "cpu").strip().lower() or "cpu"
    if arch not in ARCHS:
        raise ValueError(f"TACSUITE_ARCH={arch!r} is not supported; choose one of {ARCHS}")
    return arch


def ensure_init(arch: str | None = None, **ti_kwargs) -> str:
    """Start Taichi once with the requested arch; return the arch in use.

    Later calls return the running arch; asking for a different one then is an error,
    because Taichi fields cannot move between runtimes.
    """
    arch = arch or requested_arch()
    if arch not in ARCHS:
        raise ValueError(f"arch={arch!r} is not supported; choose one of {ARCHS}")
    with _lock:
        if "arch" in _state:
            if _state["arch"] != arch:
                raise RuntimeError(f"Taichi already runs on {_state['arch']!r} in this process; "
                                   f"cannot switch to {arch!r}")
            return str(_state["arch"])
        ti = import_taichi()
        seed = int(os.environ.get("TACSUITE_SEED", "0")) % 2**31
        target = {"cpu": ti.cpu, "cuda": ti.cuda, "vulkan": ti.vulkan}[arch]
        ti_kwargs.setdefault("log_level", ti.WARN)
        # Taichi prints its start-up line on stdout; keep stdout for results (--json).
        with contextlib.redirect_stdout(sys.stderr):
            try:
                ti.init(arch=target, random_seed=seed, enable_fallback=False, **ti_kwargs)
            except RuntimeError as exc:
                raise RuntimeError(f"TACSUITE_ARCH={arch!r} asked for, but Taichi could not "
                                   f"start on it: {exc}") from exc
        _state["arch"] = arch
        return arch


def import_taichi():
    """Import Taichi without its version banner on stdout."""
    os.environ.setdefault("ENABLE_TAICHI_HEADER_PRINT", "False")
    # Taichi 1.7 calls locale.getdefaultlocale() while importing, deprecated since Python
    # 3.11; the suite treats warnings as errors in tests, so silence exactly that one.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*getdefaultlocale.*",
                                category=DeprecationWarning)
        import taichi as ti

    return ti


def shutdown() -> None:
    """Release the Taichi runtime and every field in it; the next `ensure_init()` starts a
    fresh one. Objects built before are unusable afterwards. Long-lived processes that
    build many worlds (a test session, a sweep worker) call this between independent
    jobs: Taichi 1.7 on the CPU can crash once many field trees have been allocated and
    read back in one runtime."""
    with _lock:
        if "arch" in _state:
            import_taichi().reset()
            _state.clear()


def is_initialized() -> bool:
    return "arch" in _state
