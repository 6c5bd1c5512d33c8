"""The one place that chooses, imports and starts the simulator's compiler.

Two compilers run the same simulator code: Taichi (`TACSUITE_BACKEND=taichi`, the
default) and Quadrants (`TACSUITE_BACKEND=quadrants`), the maintained fork of Taichi,
installed by `pip install 'tacsuite[quadrants]'`. Every simulator module does
`ti = import_taichi()` and uses the module it returns; nothing else imports either
compiler by name. The differences between the two live in this file, each one named with
the versions that showed it.

`import tacsuite` never starts the compiler (that would make the import slow and unsafe to
fork). Simulator classes call `ensure_init()` before they allocate fields. The
architecture comes from `TACSUITE_ARCH` (`cpu` by default; `cuda` or `vulkan` where the
machine has them). Asking for an architecture the machine lacks is an error, not a silent
fall-back to CPU.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import warnings
from importlib import metadata
from types import ModuleType

ARCHS = ("cpu", "cuda", "vulkan")
BACKENDS = ("taichi", "quadrants")
DEFAULT_BACKEND = "taichi"
# What installs each compiler; Taichi is a core dependency, Quadrants an extra.
INSTALL = {"taichi": "pip install 'tacsuite'", "quadrants": "pip install 'tacsuite[quadrants]'"}
_lock = threading.RLock()
_state: dict[str, object] = {}


def requested_arch() -> str:
    arch = os.environ.get("TACSUITE_ARCH", "cpu").strip().lower() or "cpu"
    if arch not in ARCHS:
        raise ValueError(f"TACSUITE_ARCH={arch!r} is not supported; choose one of {ARCHS}")
    return arch


def requested_backend() -> str:
    """The compiler `TACSUITE_BACKEND` asks for (`taichi` when unset)."""
    name = os.environ.get("TACSUITE_BACKEND", DEFAULT_BACKEND).strip().lower() or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise ValueError(f"TACSUITE_BACKEND={name!r} is not supported; choose one of {BACKENDS}")
    return name


def backend_name() -> str:
    """The compiler this process uses: the one imported already, else the requested one."""
    module = _state.get("module")
    return module.__name__ if isinstance(module, ModuleType) else requested_backend()


def compiler() -> dict[str, str | None]:
    """Name and installed version of this process's compiler, read without importing it
    (run records and `tacsuite --version` stay fast); version None when not installed."""
    name = backend_name()
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        version = None
    return {"name": name, "version": version}


def compiler_env(name: str | None = None, **settings) -> dict[str, str]:
    """Environment variables that pass `ti.init` settings to a child process's compiler,
    e.g. `compiler_env(offline_cache=True, offline_cache_file_path=DIR)` for a private
    offline cache. Taichi 1.7.4 reads `TI_<SETTING>`, Quadrants 1.3.3 `QD_<SETTING>`
    (it ignores `TI_*`); booleans are written 1/0 as both expect."""
    name = name or backend_name()
    if name not in BACKENDS:
        raise ValueError(f"backend {name!r} is not supported; choose one of {BACKENDS}")
    prefix = {"taichi": "TI_", "quadrants": "QD_"}[name]
    return {prefix + key.upper(): str(int(v)) if isinstance(v, bool) else str(v)
            for key, v in settings.items()}


def import_taichi() -> ModuleType:
    """The compiler module chosen by `TACSUITE_BACKEND`, imported quietly (no banner on
    stdout). The first call fixes the choice for the process: kernels compiled by one
    compiler cannot run on the other's fields."""
    with _lock:
        module = _state.get("module")
        name = requested_backend()
        if isinstance(module, ModuleType):
            if module.__name__ != name:
                raise RuntimeError(f"this process already runs the simulator on "
                                   f"{module.__name__!r}; TACSUITE_BACKEND={name!r} takes a "
                                   f"new process")
            return module
        module = _import(name)
        _state["module"] = module
        return module


def _import(name: str) -> ModuleType:
    # Both print a version banner on stdout at import unless told not to (Taichi 1.7.4:
    # ENABLE_TAICHI_HEADER_PRINT; Quadrants 1.3.3: ENABLE_QUADRANTS_HEADER_PRINT).
    os.environ.setdefault("ENABLE_TAICHI_HEADER_PRINT", "False")
    os.environ.setdefault("ENABLE_QUADRANTS_HEADER_PRINT", "False")
    with warnings.catch_warnings():
        # Taichi 1.7.4 calls locale.getdefaultlocale() while importing, deprecated since
        # Python 3.11; the suite treats warnings as errors in tests, so silence exactly
        # that one. Quadrants 1.3.3 imports without warnings.
        warnings.filterwarnings("ignore", message=".*getdefaultlocale.*",
                                category=DeprecationWarning)
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if getattr(exc, "name", None) != name:
                raise
            from tacsuite.common.validate import MissingExtra

            raise MissingExtra(f"TACSUITE_BACKEND={name!r} needs the {name} package, which "
                               f"is not installed: {INSTALL[name]}") from exc
    if name == "quadrants":
        # Quadrants 1.3.3 warns (UserWarning, once) that it cannot cache the template
        # mapping of its own Python-scope `field.fill` kernel, whose value arrives as a
        # tuple; a speed notice about its internals that Taichi 1.7.4 does not give.
        warnings.filterwarnings("ignore", message=".*Template mapper caching disabled",
                                category=UserWarning)
    return module


def ensure_init(arch: str | None = None, **ti_kwargs) -> str:
    """Start the compiler once with the requested arch; return the arch in use.

    Later calls return the running arch; asking for a different one then is an error,
    because fields cannot move between runtimes.
    """
    arch = arch or requested_arch()
    if arch not in ARCHS:
        raise ValueError(f"arch={arch!r} is not supported; choose one of {ARCHS}")
    with _lock:
        if "arch" in _state:
            if _state["arch"] != arch:
                raise RuntimeError(f"{backend_name()} already runs on {_state['arch']!r} in "
                                   f"this process; cannot switch to {arch!r}")
            return str(_state["arch"])
        ti = import_taichi()
        seed = int(os.environ.get("TACSUITE_SEED", "0")) % 2**31
        target = {"cpu": ti.cpu, "cuda": ti.cuda, "vulkan": ti.vulkan}[arch]
        ti_kwargs.setdefault("log_level", ti.WARN)
        # Both print a start-up line on stdout; keep stdout for results (--json).
        with contextlib.redirect_stdout(sys.stderr):
            try:
                ti.init(arch=target, random_seed=seed, enable_fallback=False, **ti_kwargs)
            except RuntimeError as exc:
                raise RuntimeError(f"TACSUITE_ARCH={arch!r} asked for, but {ti.__name__} "
                                   f"could not start on it: {exc}") from exc
        _state["arch"] = arch
        return arch


def shutdown() -> None:
    """Release the runtime and every field in it; the next `ensure_init()` starts a fresh
    one. Objects built before are unusable afterwards. Long-lived processes that build
    many worlds (a test session, a sweep worker) call this between independent jobs:
    Taichi 1.7 on the CPU can crash once many field trees have been allocated and read
    back in one runtime."""
    with _lock:
        if "arch" in _state:
            import_taichi().reset()
            del _state["arch"]


def is_initialized() -> bool:
    return "arch" in _state
