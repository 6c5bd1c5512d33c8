"""The configuration fields, checks, run folder and saved actor every offline agent shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tacsuite.agents.common import saved
from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.runs import RunDir, check_out
from tacsuite.common.seeding import set_seed
from tacsuite.common.validate import (
    AT_LEAST_ONE,
    NON_NEGATIVE,
    POSITIVE,
    Interval,
    check_env_kwargs,
    check_numbers,
    env_spec,
)

MLP_ACTOR = "mlp-actor"


@dataclass
class OfflineConfig:
    env: str = "tacsuite/GridStitch-v0"
    """Gymnasium id used for evaluation."""
    env_kwargs: str = ""
    """Extra gym.make arguments as k=v,k2=v2 (Python literals)."""
    dataset: str = "gridstitch-mixed"
    """Named offline dataset (`tacsuite data list`); generated on first use."""
    dataset_seed: int = 0
    """Seed of the dataset generator."""
    seed: int = 0
    """Seed of training and evaluation."""
    out: str = "runs/offline"
    """Run folder (config.json, metrics.jsonl, result.json, agent.json)."""
    eval_episodes: int = 20
    """Evaluation episodes (full horizon, no early termination)."""
    overwrite: bool = False
    """Clear --out first when it holds an earlier run."""
    resume: bool = False
    """Reuse the agent saved in --out (same options) and evaluate it again, else train."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        "eval_episodes": AT_LEAST_ONE, "seed": NON_NEGATIVE, "dataset_seed": NON_NEGATIVE,
        "epochs": AT_LEAST_ONE, "batch": AT_LEAST_ONE, "hidden": AT_LEAST_ONE,
        "lr": POSITIVE, "weight_decay": NON_NEGATIVE}


def env_kwargs(config: OfflineConfig) -> dict[str, Any]:
    kw = config.env_kwargs
    return dict(kw) if isinstance(kw, dict) else parse_kwargs(kw)


def check(config: OfflineConfig) -> None:
    """Everything that can be checked before the dataset is read or generated."""
    import gymnasium as gym
    from gymnasium import spaces

    from tacsuite.envs import datasets

    check_numbers(config)
    spec, _ = datasets.resolve(config.dataset, config.dataset_seed)
    env_spec(spec.env_id)
    kwargs = env_kwargs(config)
    check_env_kwargs(config.env, kwargs)
    check_out(config.out)
    env = gym.make(config.env, **kwargs)
    data_env = gym.make(spec.env_id, **dict(spec.env_kwargs))
    try:
        for what, space in (("observations", env.observation_space),
                            ("actions", env.action_space)):
            if not (isinstance(space, spaces.Box) and len(space.shape) == 1):
                raise ValueError(f"the offline agents need 1-D continuous (Box) {what}; "
                                 f"{config.env} has {space}")
        for what in ("observation_space", "action_space"):
            mine, theirs = getattr(env, what), getattr(data_env, what)
            if mine.shape != theirs.shape:
                raise ValueError(f"--env {config.env} has {what} {mine} but dataset "
                                 f"{config.dataset!r} was collected in {spec.env_id} with "
                                 f"{theirs}; choose a dataset of that env")
    finally:
        env.close()
        data_env.close()


def start(config: OfflineConfig) -> tuple[np.random.Generator, list[dict]]:
    """Seed everything and load (or generate) the dataset's episodes."""
    from tacsuite.envs import datasets

    if config.eval_episodes < 1:
        raise ValueError(f"eval_episodes must be >= 1, got {config.eval_episodes}")
    rng = set_seed(config.seed)
    episodes = datasets.load(config.dataset, config.dataset_seed)
    return rng, episodes


def open_run(config: OfflineConfig) -> RunDir:
    """Check the options, then take the run folder (refused if it holds another run)."""
    check(config)
    return RunDir(config.out, config, resumable=True)


def resumed_agent(run: RunDir, kinds: tuple[str, ...]) -> tuple[dict, dict] | None:
    """(meta, arrays) of the agent a resumed run saved, or None (train it)."""
    if not run.resumed:
        return None
    run.check_resume(changeable=("eval_episodes",))
    if not saved.has_agent(run.path):
        return None
    _, meta, arrays = saved.load_agent(run.path, kinds=kinds)
    return meta, arrays


# ---------------------------------------------------------------- the MLP actor

def save_mlp_actor(run: RunDir, algo: str, net, scale, hidden, curves: dict, *,
                   tanh: bool = False, target: float | None = None, **extra
                   ) -> tuple[dict, dict]:
    """An MLP from observations (and return-to-go when `target` is set) to actions;
    returns what it saved, (meta, arrays)."""
    linears = [m for m in net if hasattr(m, "out_features")]
    meta = {"algo": algo, "n_in": int(linears[0].in_features),
            "n_out": int(linears[-1].out_features), "hidden": [int(h) for h in hidden],
            "tanh": bool(tanh), "target": target, "curves": curves, **extra}
    arrays = saved.module_arrays("net", net)
    arrays.update({"scale.mean": scale.mean.numpy(), "scale.std": scale.std.numpy()})
    saved.save_agent(run.path, MLP_ACTOR, meta, arrays)
    return meta, arrays


def mlp_actor_from_saved(meta: dict, arrays: dict):
    """(actor for trajectories.evaluate, net, scale) rebuilt from `save_mlp_actor` data."""
    import torch

    from tacsuite.agents.common.mlp import Standardizer, mlp, tensor

    net = mlp(int(meta["n_in"]), int(meta["n_out"]), meta["hidden"],
              out_activation=torch.nn.Tanh() if meta["tanh"] else None)
    saved.load_module("net", net, arrays)
    scale = Standardizer.from_arrays(arrays["scale.mean"], arrays["scale.std"])
    target = meta.get("target")

    @torch.no_grad()
    def actor(obs, collected, t):
        x = obs if target is None else np.concatenate(
            [obs, np.asarray(target - collected).reshape(-1, 1)], axis=1)
        return net(scale(tensor(x))).numpy()

    return actor, net, scale
