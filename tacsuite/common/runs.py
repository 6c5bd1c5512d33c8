"""Run directories: `config.json`, streamed `metrics.jsonl`, `result.json`, arrays, plots.

Every training or planning command writes through a `RunDir`, so every run can be
traced back to its resolved configuration, seed, code version and package versions, and
a folder only ever holds one run:

- `--out` is checked before any work (not a file, writable);
- a lock (`.lock`, holding the owner's pid) stops a second process writing the same
  folder; the kernel drops it when its owner dies, so a stale lock is taken over;
- a folder that already holds a run is refused, naming `--overwrite` (start clean) and,
  for commands that checkpoint, `--resume` (continue the run that is there).
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import functools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import weakref
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from tacsuite.common import atomic, tblog

_PACKAGES = ("tacsuite", "numpy", "scipy", "gymnasium", "taichi", "quadrants", "torch",
             "stable-baselines3", "matplotlib", "minari")


@functools.lru_cache(maxsize=8)
def git_sha(cwd: str | os.PathLike | None = None) -> str | None:
    """The commit of the source tree (with `-dirty` when it has local changes).

    Asked once a process: a long-lived sweep worker keeps running the code it imported
    at start-up, so that is the commit its runs must name."""
    here = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
        return sha + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str | None]:
    return dict(_package_versions())


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def compiler() -> dict[str, str | None]:
    """The simulator's compiler for this process (name and version), as the simulator's
    backend chooses it; read without importing the compiler."""
    from tacsuite.sim.backend import compiler as backend_compiler

    return backend_compiler()


def config_to_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return atomic.to_jsonable(dataclasses.asdict(config))
    if isinstance(config, dict):
        return atomic.to_jsonable(config)
    raise TypeError(f"config must be a dataclass instance or dict, got {type(config).__name__}")


LOCK_NAME = ".lock"


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (the CLI prints it and exits 2)."""


def check_out(out: str | os.PathLike, option: str = "--out") -> Path:
    """Fail fast on an output folder that cannot be written: empty, a file, unwritable."""
    if not str(out).strip():
        raise RunFolderError(f"{option} must name a folder, got an empty string")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"{option} {path} exists and is not a folder")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise RunFolderError(f"{option} {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunFolderError(f"{option} {path}: {probe} is not writable")
    return path


class FolderLock:
    """An exclusive `flock` on `path`, with the owner's pid, host and start time inside.

    The kernel releases the lock when the owner exits or dies, so the pid a dead owner
    left in the file never blocks anyone: the next process takes the lock over.
    """

    def __init__(self, path: str | os.PathLike, what: str):
        self.path, self.what = Path(path), what
        self._fd: int | None = None
        self.took_over: int | None = None  # pid of a dead owner whose lock we took over

    def owner(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self, wait: bool = False, on_wait=None) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise
                if not wait:
                    os.close(fd)
                    owner = self.owner()
                    who = (f"process {owner['pid']} on {owner.get('host', '?')}"
                           if "pid" in owner else "another process")
                    raise RunFolderError(f"{self.what} is in use by {who} (lock file "
                                         f"{self.path}); wait for it to finish or choose "
                                         f"another folder") from None
                if on_wait is not None:
                    on_wait(self.owner())
                fcntl.flock(fd, fcntl.LOCK_EX)
            # The file may have been unlinked by its previous owner between our open and
            # our lock: then we hold a lock nobody else can see, so start again.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = self.owner()
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}).encode())
        os.fsync(fd)
        self._fd = fd
        self.took_over = previous.get("pid") if previous.get("pid") not in (None, os.getpid()) \
            else None
        self._finalizer = weakref.finalize(self, _release, fd, str(self.path))
        return self

    def release(self) -> None:
        if self._fd is not None:
            self._finalizer()
            self._fd = None


def _release(fd: int, path: str) -> None:
    try:
        os.unlink(path)  # unlink first, then unlock: waiters re-check the inode
    except FileNotFoundError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass


def run_files(path: Path) -> list[str]:
    """What a folder holds besides the lock and temporary files."""
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir()
                  if p.name != LOCK_NAME and not (p.name.startswith(".") and
                                                   p.name.endswith(".tmp")))


class RunDir:
    """A folder holding one run's files; every file is written atomically.

    `overwrite` clears a folder that holds an earlier run; `resume` keeps it (the caller
    continues from its checkpoint; `resumed` says whether there was one). Neither given
    and the folder holds a run: refused. `resumable` says whether the command supports
    `--resume` (named in the refusal only then). Use as a context manager, or call
    `close()`; the lock also goes when the object is collected or the process exits.
    """

    def __init__(self, out: str | os.PathLike, config: Any, seed: int | None = None,
                 command: str | None = None, *, overwrite: bool | None = None,
                 resume: bool | None = None, resumable: bool = False):
        overwrite = bool(getattr(config, "overwrite", False) if overwrite is None else overwrite)
        resume = bool(getattr(config, "resume", False) if resume is None else resume)
        if overwrite and resume:
            raise RunFolderError("--overwrite and --resume exclude each other: start clean "
                                 "or continue, not both")
        if resume and not resumable:
            raise RunFolderError("--resume is not supported by this command; use --overwrite "
                                 "to start clean")
        self.path = check_out(out)
        self.path.mkdir(parents=True, exist_ok=True)
        self.lock = FolderLock(self.path / LOCK_NAME, f"run folder {self.path}").acquire()
        try:
            existing = run_files(self.path)
            self.resumed = bool(resume and existing)
            if existing and not (overwrite or resume):
                hint = "--overwrite to start clean" + (
                    " or --resume to continue it" if resumable else "")
                raise RunFolderError(
                    f"run folder {self.path} already holds a run ({', '.join(existing[:5])}"
                    f"{', ...' if len(existing) > 5 else ''}); pass {hint}, or choose "
                    f"another --out")
            if existing and overwrite:
                for name in existing:
                    victim = self.path / name
                    if victim.is_dir() and not victim.is_symlink():
                        shutil.rmtree(victim)
                    else:
                        victim.unlink()
            self.config = config_to_dict(config)
            self.seed = seed if seed is not None else self.config.get("seed")
            self._t0 = time.perf_counter()
            info = {"config": self.config, "seed": self.seed,
                    "command": command if command is not None else " ".join(sys.argv),
                    "git_sha": git_sha(), "versions": package_versions(),
                    "compiler": compiler(),
                    "python": platform.python_version(), "platform": platform.platform()}
            if self.resumed and (self.path / "config.json").is_file():
                info["resumed_from"] = atomic.read_json(self.path / "config.json")
                info["resumed_from"].pop("resumed_from", None)
            atomic.write_json(self.path / "config.json", info)
            self._tb = None
            if tblog.enabled():
                self._tb = tblog.Writer(self.path / "tensorboard")
        except BaseException:
            self.lock.release()
            raise

    def close(self) -> None:
        self._close_tensorboard()
        self.lock.release()

    def _close_tensorboard(self) -> None:
        if getattr(self, "_tb", None) is not None:
            self._tb.close()
            self._tb = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._t0

    def previous_config(self) -> dict | None:
        """The config of the run being resumed (None when not resuming)."""
        if not self.resumed:
            return None
        return atomic.read_json(self.path / "config.json").get("resumed_from", {}).get("config")

    def check_resume(self, changeable: tuple[str, ...] = ()) -> None:
        """On resume: the options must be those of the run in the folder, except
        `changeable` ones (e.g. the number of episodes to reach)."""
        prev = self.previous_config()
        if prev is None:
            return
        skip = set(changeable) | {"out", "resume", "overwrite"}
        diff = sorted(k for k in set(prev) | set(self.config)
                      if k not in skip and prev.get(k) != self.config.get(k))
        if diff:
            shown = ", ".join(f"{k}={prev.get(k)!r} (now {self.config.get(k)!r})"
                              for k in diff[:4])
            raise RunFolderError(f"--resume: run folder {self.path} was started with {shown}; "
                                 f"resume with the same options, or pass --overwrite")

    def log(self, **metrics: Any) -> None:
        """Append one line to metrics.jsonl (flushed, so a crash keeps earlier lines)."""
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(atomic.to_jsonable(metrics)) + "\n")
            fh.flush()
        if self._tb is not None:  # `--tensorboard`: the same line as event-file scalars
            self._tb.add(atomic.to_jsonable(metrics))

    def keep_metrics(self, keep) -> None:
        """On resume: drop the metric lines a killed run wrote after its last checkpoint."""
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        kept = []
        for ln in lines:
            try:
                if keep(json.loads(ln)):
                    kept.append(ln)
            except ValueError:
                break  # a torn last line from a killed writer
        atomic.write_text(path, "".join(x + "\n" for x in kept))

    def write_result(self, result: dict[str, Any]) -> Path:
        self._close_tensorboard()  # result.json marks a finished run: events are complete
        return atomic.write_json(self.path / "result.json", result)

    def save_array(self, name: str, array: np.ndarray) -> Path:
        return atomic.save_npy(self.path / f"{name}.npy", array)

    def save_json(self, name: str, obj: Any) -> Path:
        return atomic.write_json(self.path / name, obj)

    def save_figure(self, name: str, fig) -> Path:
        return atomic.savefig(self.path / name, fig)
