"""A few long-lived, spawned worker processes that run sweep trials one at a time each.

Workers are started with `spawn` (a fresh interpreter, never a fork of a driver that may
hold a Taichi runtime or torch threads) and take trials over a pipe; a worker's first
trial pays its imports (torch, gymnasium, Taichi), the next ones find them loaded. The
driver waits on every worker's pipe and process sentinel, so a worker that dies
mid-trial (segfault, OOM killer, `kill -9`) is noticed at once and blamed on exactly the
trial it was running: that trial is reported with the signal as its exit status, a fresh
worker takes its place, and the sweep goes on. Workers die with
the driver (PR_SET_PDEATHSIG), so a killed sweep leaves no trial running.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

from tacsuite.common import trialexec

Job = tuple[Any, list[str], str]  # (key, tacsuite argv, log path)


def _worker(conn, parent: int, env: dict[str, str]) -> None:
    trialexec.die_with_parent()
    if os.getppid() != parent:  # the driver died before the line above took effect
        os._exit(1)
    os.environ.update(env)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        key, argv, log = job
        status, seconds = trialexec.execute(argv, log, header=f"# worker process {os.getpid()}")
        conn.send((key, status, seconds))


def signal_name(status: int) -> str:
    try:
        return signal.Signals(-status).name
    except ValueError:
        return f"signal {-status}"


class _Slot:
    def __init__(self, ctx, env):
        self.conn, child = ctx.Pipe()
        # Not a daemon: a trial may start processes of its own. `run` stops its workers
        # itself, and PR_SET_PDEATHSIG kills them if the driver is killed.
        self.proc = ctx.Process(target=_worker, args=(child, os.getpid(), env))
        self.proc.start()
        child.close()
        self.job: Job | None = None
        self.sent = 0.0


def run(jobs: Sequence[Job], workers: int, on_done: Callable[[Any, int, float], None],
        env: dict[str, str] | None = None) -> None:
    """Run every job; `on_done(key, exit_status, seconds)` as each one ends.

    A job whose worker died gets exit status -SIGNUM (or the worker's own exit code)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    ctx = mp.get_context("spawn")
    pending = deque(jobs)
    env = dict(env or {})
    slots = [_Slot(ctx, env) for _ in range(min(workers, len(pending)))]
    try:
        while True:
            for s in slots:
                if s.job is None and pending:
                    s.job, s.sent = pending.popleft(), time.perf_counter()
                    s.conn.send(s.job)
            busy = [s for s in slots if s.job is not None]
            if not busy:
                return
            ready = set(wait([s.conn for s in busy] + [s.proc.sentinel for s in busy]))
            for i, s in enumerate(slots):
                if s is None or s.job is None or not (s.conn in ready or s.proc.sentinel in ready):
                    continue
                try:
                    message = s.conn.recv() if s.conn.poll() else None
                except (EOFError, OSError):
                    message = None
                if message is not None:
                    s.job = None
                    on_done(*message)
                    continue
                s.proc.join()
                key, seconds = s.job[0], time.perf_counter() - s.sent
                s.job = None
                s.conn.close()
                status = s.proc.exitcode if s.proc.exitcode not in (None, 0) else 1
                slots[i] = _Slot(ctx, env) if pending else None
                on_done(key, status, seconds)
            slots = [s for s in slots if s is not None]
    finally:
        for s in slots:
            try:
                s.conn.send(None)
            except OSError:
                pass
        for s in slots:
            s.proc.join(timeout=5)
            if s.proc.is_alive():
                s.proc.kill()
                s.proc.join()
