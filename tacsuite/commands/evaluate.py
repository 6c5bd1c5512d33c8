"""`tacsuite evaluate DIR`: run a trained policy in a (shifted) environment.

Finite-state runs are evaluated from policy.json (probs[h][s][a]); runs on continuous
envs from the learner the training run saved (agent.pkl).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import gymnasium as gym
import numpy as np
import tyro
from gymnasium import spaces

from tacsuite.common.atomic import read_json
from tacsuite.common.cliargs import parse_kwargs, run_config
from tacsuite.common.runs import RunDir
from tacsuite.common.stats import mean_ci


@dataclasses.dataclass
class EvaluateConfig:
    run: Annotated[Path, tyro.conf.Positional]
    """Run folder written by `tacsuite train` (holds policy.json and config.json)."""
    env: str = ""
    """Environment id (default: the one the run was trained in)."""
    env_kwargs: str = ""
    """Keyword arguments for gym.make as k=v,k2=v2, e.g. q=0.6 for a shifted test env."""
    episodes: int = 1000
    """Number of test episodes."""
    seed: int = 0
    """Seed of the test episodes and the policy's action draws."""
    out: str = ""
    """Folder for the evaluation's result.json (default: print only)."""


def load_policy(run: Path) -> np.ndarray:
    path = Path(run) / "policy.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} (or agent.pkl) not found: evaluate needs a run "
                                f"folder written by `tacsuite train ... --out {run}`")
    probs = np.asarray(read_json(path)["probs"], dtype=np.float64)
    if probs.ndim != 3 or np.any(probs < 0) or not np.allclose(probs.sum(-1), 1.0):
        raise ValueError(f"{path}: probs must be [h][s][a] distributions, got {probs.shape}")
    return probs


def evaluate_policy(probs: np.ndarray, env_id: str, env_kwargs: dict, episodes: int,
                    seed: int) -> dict:
    """Mean return of the episodic policy probs[h][s][a] with a 95% CI (and the exact value
    when the env exposes its per-step model)."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = gym.make(env_id, **env_kwargs)
    H, S, A = probs.shape
    if not (isinstance(env.observation_space, spaces.Discrete) and env.observation_space.n == S
            and isinstance(env.action_space, spaces.Discrete) and env.action_space.n == A):
        raise ValueError(f"policy has {S} states and {A} actions but {env_id} has "
                         f"{env.observation_space} and {env.action_space}")
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(probs, axis=-1)
    returns = np.empty(episodes)
    for k in range(episodes):
        s, _ = env.reset(seed=seed if k == 0 else None)
        total, h = 0.0, 0
        while True:
            a = min(int(np.searchsorted(cdf[min(h, H - 1), int(s)], rng.random(), "right")),
                    A - 1)
            s, r, term, trunc, _ = env.step(a)
            total += r
            h += 1
            if term or trunc:
                break
        returns[k] = total
    out = {"env": env_id, "env_kwargs": env_kwargs, "episodes": episodes, "seed": seed,
           **mean_ci(returns)}
    u = env.unwrapped
    if hasattr(u, "P_h") and hasattr(u, "R_h") and u.P_h.shape[0] == H:
        from tacsuite.theory.robust import finite_horizon_values

        V, _ = finite_horizon_values(u.P_h, u.R_h, probs)
        out["exact_value"] = float(u.initial @ V[0])
    env.close()
    return out


def main(argv: list[str], prog: str) -> int:
    cfg = run_config(EvaluateConfig, argv, prog,
                     description="Mean return (95% CI) of a trained run's policy.json in an "
                                 "environment, e.g. a shifted test env via --env-kwargs q=0.6.")
    env_id = cfg.env
    if not env_id:
        config_path = Path(cfg.run) / "config.json"
        if not config_path.is_file():
            raise FileNotFoundError(f"{config_path} not found; pass --env ID")
        env_id = read_json(config_path)["config"]["env"]
    kwargs = parse_kwargs(cfg.env_kwargs)
    if not (Path(cfg.run) / "policy.json").is_file() and (Path(cfg.run) / "agent.pkl").is_file():
        from tacsuite.agents.common.linear_runs import evaluate_learner, load_learner

        if cfg.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {cfg.episodes}")
        returns = evaluate_learner(load_learner(cfg.run), env_id, kwargs, cfg.episodes,
                                   cfg.seed)
        result = {"env": env_id, "env_kwargs": kwargs, "episodes": cfg.episodes,
                  "seed": cfg.seed, **mean_ci(returns)}
    else:
        result = evaluate_policy(load_policy(cfg.run), env_id, kwargs, cfg.episodes,
                                 cfg.seed)
    result["run"] = str(cfg.run)
    if cfg.out:
        RunDir(cfg.out, cfg).write_result(result)
    print(json.dumps(result))
    return 0
