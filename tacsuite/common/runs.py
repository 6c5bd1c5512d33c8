"""Run directories: `config.json`, streamed `metrics.jsonl`, `result.json`, arrays, plots.

Every training or planning command writes through a `RunDir`, so every run can be
traced back to its resolved configuration, seed, code version and package versions.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from tacsuite.common import atomic

_PACKAGES = ("tacsuite", "numpy", "scipy", "gymnasium", "taichi", "torch",
             "stable-baselines3", "matplotlib", "minari")


def git_sha(cwd: str | os.PathLike | None = None) -> str | None:
    """The commit of the source tree (with `-dirty` when it has local changes)."""
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
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def config_to_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return atomic.to_jsonable(dataclasses.asdict(config))
    if isinstance(config, dict):
        return atomic.to_jsonable(config)
    raise TypeError(f"config must be a dataclass instance or dict, got {type(config).__name__}")


class RunDir:
    """A folder holding one run's files; every file is written atomically."""

    def __init__(self, out: str | os.PathLike, config: Any, seed: int | None = None,
                 command: str | None = None):
        self.path = Path(out)
        self.path.mkdir(parents=True, exist_ok=True)
        self.config = config_to_dict(config)
        self.seed = seed if seed is not None else self.config.get("seed")
        self._t0 = time.perf_counter()
        atomic.write_json(self.path / "config.json", {
            "config": self.config,
            "seed": self.seed,
            "command": command if command is not None else " ".join(sys.argv),
            "git_sha": git_sha(),
            "versions": package_versions(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        })

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._t0

    def log(self, **metrics: Any) -> None:
        """Append one line to metrics.jsonl (flushed, so a crash keeps earlier lines)."""
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(atomic.to_jsonable(metrics)) + "\n")
            fh.flush()

    def write_result(self, result: dict[str, Any]) -> Path:
        return atomic.write_json(self.path / "result.json", result)

    def save_array(self, name: str, array: np.ndarray) -> Path:
        return atomic.save_npy(self.path / f"{name}.npy", array)

    def save_json(self, name: str, obj: Any) -> Path:
        return atomic.write_json(self.path / name, obj)

    def save_figure(self, name: str, fig) -> Path:
        return atomic.savefig(self.path / name, fig)
