"""Run one sweep trial (`tacsuite ARGV`) inside a long-lived worker process.

Starting a fresh interpreter per trial costs seconds of imports (torch, gymnasium,
Taichi); a worker that has imported them once runs each trial as a function call. What
a fresh process gave for free is done here by hand: the trial's output (Python's and
C libraries') goes to its own log file through fds 1 and 2, every exception becomes an
exit status as the command line would give (2 for bad input, 1 for a crash), and state
that outlives a call is cleared after it: the Taichi runtime (Taichi 1.7 on the CPU can
crash once many field trees accumulate in one process) and open figures.

This module imports nothing heavy at the top: spawned workers import it first.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux).

    A worker must not outlive a killed driver: an orphan would still hold its trial
    folder's lock, or finish and write a result late, when the sweep is resumed."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def _reset_state() -> None:
    if "tacsuite.sim.backend" in sys.modules:
        backend = sys.modules["tacsuite.sim.backend"]
        if backend.is_initialized():
            backend.shutdown()
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _call(argv: list[str]) -> int:
    from tacsuite.cli import main

    try:
        return int(main(argv) or 0)
    except SystemExit as exc:  # argument errors exit through argparse/tyro
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - a trial's crash is recorded, the worker goes on
        traceback.print_exc()
        return 1


def execute(argv: list[str], log: str | os.PathLike, header: str = "") -> tuple[int, float]:
    """Run `tacsuite ARGV` here with stdout and stderr to `log`; (exit status, seconds)."""
    start = time.perf_counter()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        if header:
            print(header, flush=True)
        status = _call(list(argv))
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        _reset_state()
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)
    return status, time.perf_counter() - start


def log_tail(log: str | os.PathLike, lines: int = 20) -> str:
    path = Path(log)
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
