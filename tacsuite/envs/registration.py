"""The table of every environment in the suite; `import tacsuite` registers them all.

Entry points are strings so registration imports nothing heavy, and worker processes can
use the `"tacsuite:tacsuite/Name-v0"` form to import the package before lookup.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

NAMESPACE = "tacsuite"


@dataclass(frozen=True)
class EnvEntry:
    id: str
    entry_point: str
    max_episode_steps: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    vector_entry_point: str | None = None
    nondeterministic: bool = False


ENVS: list[EnvEntry] = [
    EnvEntry("tacsuite/RiverSwim-v0", "tacsuite.envs.river_swim:RiverSwimEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/GridStitch-v0", "tacsuite.envs.grid_stitch:GridStitchEnv",
             max_episode_steps=40),
]

# MuJoCo envs join the table only where the optional extra imports, so the harness and
# `tacsuite envs` never list an id that cannot be built.
if importlib.util.find_spec("mujoco") and importlib.util.find_spec("gymnasium_robotics"):
    ENVS.append(EnvEntry("tacsuite/PointMazeStitch-v0",
                         "tacsuite.envs.point_maze_stitch:PointMazeStitchEnv",
                         max_episode_steps=200))


def register_all() -> None:
    for e in ENVS:
        if e.id in gym.registry:
            continue
        gym.register(id=e.id, entry_point=e.entry_point, max_episode_steps=e.max_episode_steps,
                     kwargs=dict(e.kwargs), vector_entry_point=e.vector_entry_point,
                     nondeterministic=e.nondeterministic)


def registered_ids() -> list[str]:
    return sorted(k for k in gym.registry if k.startswith(f"{NAMESPACE}/"))


def env_class(env_id: str) -> type:
    if env_id not in gym.registry:
        raise KeyError(f"unknown environment id {env_id!r}; `tacsuite envs` lists them")
    ep = gym.registry[env_id].entry_point
    if not isinstance(ep, str):
        return ep
    module, _, name = ep.partition(":")
    return getattr(importlib.import_module(module), name)


def summary(env_id: str) -> str:
    """First line of the environment class docstring."""
    doc = (env_class(env_id).__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""
