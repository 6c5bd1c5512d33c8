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
    extra: str | None = None  # optional extra whose packages the env needs
    requires: tuple[str, ...] = ()  # importable modules of that extra

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.requires)


ENVS: list[EnvEntry] = [
    EnvEntry("tacsuite/RiverSwim-v0", "tacsuite.envs.river_swim:RiverSwimEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/LSDBandit-v0", "tacsuite.envs.lsd_bandit:LSDBanditEnv"),
    EnvEntry("tacsuite/RechargingBandit-v0", "tacsuite.envs.lsd_bandit:RechargingBanditEnv"),
    EnvEntry("tacsuite/SimulatedLinearMDP-v0", "tacsuite.envs.linear_mdp:SimulatedLinearMDPEnv"),
    EnvEntry("tacsuite/AmericanPutOption-v0",
             "tacsuite.envs.american_put:AmericanPutOptionEnv"),
    EnvEntry("tacsuite/RobustCartPole-v0", "tacsuite.envs.robust_cartpole:RobustCartPoleEnv"),
    EnvEntry("tacsuite/GridStitch-v0", "tacsuite.envs.grid_stitch:GridStitchEnv",
             max_episode_steps=40),
    EnvEntry("tacsuite/ProcMaze-v0", "tacsuite.envs.proc_maze:ProcMazeEnv"),
    EnvEntry("tacsuite/ButtonGrid-v0", "tacsuite.envs.button_grid:ButtonGridEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/PanFlute-v0", "tacsuite.envs.pan_flute:PanFluteEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/RandomAMDP-v0", "tacsuite.envs.garnet:RandomAMDPEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/LinearAMDP-v0", "tacsuite.envs.linear_amdp:LinearAMDPEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/ContinuingFrozenLake-v0",
             "tacsuite.envs.continuing_toy_text:ContinuingFrozenLakeEnv", max_episode_steps=1000),
    EnvEntry("tacsuite/ContinuingTaxi-v0", "tacsuite.envs.continuing_toy_text:ContinuingTaxiEnv",
             max_episode_steps=1000),
    EnvEntry("tacsuite/PendulumDistractor-v0", "tacsuite.envs.wrappers:PendulumDistractorEnv",
             max_episode_steps=200),
    # Tactile tasks on the simulator's world; make_vec runs them in the world's batch axis.
    EnvEntry("tacsuite/ObjectRepose-v0", "tacsuite.envs.tactile.object_repose:ObjectReposeEnv",
             vector_entry_point="tacsuite.envs.tactile.object_repose:ObjectReposeVectorEnv"),
    EnvEntry("tacsuite/SurfaceFollow-v0",
             "tacsuite.envs.tactile.surface_follow:SurfaceFollowEnv",
             vector_entry_point="tacsuite.envs.tactile.surface_follow:SurfaceFollowVectorEnv"),
    EnvEntry("tacsuite/CaseOpen-v0", "tacsuite.envs.tactile.case_open:CaseOpenEnv",
             vector_entry_point="tacsuite.envs.tactile.case_open:CaseOpenVectorEnv"),
    EnvEntry("tacsuite/TactileGrasp-v1", "tacsuite.envs.tactile.tactile_grasp:TactileGraspEnv",
             vector_entry_point="tacsuite.envs.tactile.tactile_grasp:TactileGraspVectorEnv"),
    EnvEntry("tacsuite/CableStraighten-v1",
             "tacsuite.envs.tactile.cable_straighten:CableStraightenEnv",
             vector_entry_point="tacsuite.envs.tactile.cable_straighten:CableStraightenVectorEnv"),
    # Registered only where the optional extra imports, so the harness and `tacsuite envs`
    # never list an id that cannot be built.
    EnvEntry("tacsuite/PointMazeStitch-v0", "tacsuite.envs.point_maze_stitch:PointMazeStitchEnv",
             max_episode_steps=200, extra="mujoco", requires=("mujoco", "gymnasium_robotics")),
    EnvEntry("tacsuite/HopperDistractor-v0", "tacsuite.envs.hopper_distractor:HopperDistractorEnv",
             max_episode_steps=1000, extra="mujoco", requires=("mujoco", "imageio")),
]


def register_all() -> None:
    # EpisodeGuard goes outermost (above TimeLimit), so stepping past a time-limit
    # truncation raises as stepping past the env's own ending does (tacsuite.envs.base).
    from tacsuite.envs.base import GUARD_WRAPPER

    for e in ENVS:
        if e.id in gym.registry or not e.available():
            continue
        # Gymnasium refuses a vector entry point beside additional wrappers; envs with a
        # native vector env end on their own (no TimeLimit) and keep the episode order
        # themselves (SuiteEnv names their id in the error; gymnasium's OrderEnforcing
        # would answer first, in other words).
        native_vector = e.vector_entry_point is not None
        gym.register(id=e.id, entry_point=e.entry_point, max_episode_steps=e.max_episode_steps,
                     kwargs=dict(e.kwargs), vector_entry_point=e.vector_entry_point,
                     nondeterministic=e.nondeterministic, order_enforce=not native_vector,
                     additional_wrappers=() if native_vector else (GUARD_WRAPPER,))


def registered_ids() -> list[str]:
    return sorted(k for k in gym.registry if k.startswith(f"{NAMESPACE}/"))


def env_class(env_id: str) -> type:
    if env_id not in gym.registry:
        raise KeyError(f"unknown environment id {env_id!r}; `tacsuite envs` lists them")
    ep = gym.registry[env_id].entry_point
    return _class_of(ep) if isinstance(ep, str) else ep


def _class_of(entry_point: str) -> type:
    module, _, name = entry_point.partition(":")
    return getattr(importlib.import_module(module), name)


def summary(env_id: str) -> str:
    """First line of the environment class docstring (registered or optional ids)."""
    entry = next((e for e in ENVS if e.id == env_id), None)
    cls = _class_of(entry.entry_point) if entry else env_class(env_id)
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""
