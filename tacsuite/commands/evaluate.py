"""`tacsuite evaluate DIR`: run a trained policy in a (shifted) environment.

Finite-state runs are evaluated from policy.json (probs[h][s][a]); every other run from
the agent it saved (agent.json + arrays: data only, never a pickle). The evaluation gets
its own folder, by default DIR/eval/<env>-<kwargs>/, and never touches the training files.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, ClassVar

import gymnasium as gym
import numpy as np
import tyro
from gymnasium import spaces

from tacsuite.common.atomic import read_json
from tacsuite.common.cliargs import parse_kwargs, run_config
from tacsuite.common.runs import RunDir, RunFolderError, check_out
from tacsuite.common.stats import mean_ci
from tacsuite.common.validate import AT_LEAST_ONE, NON_NEGATIVE, check_env_kwargs, check_numbers


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
    """Evaluation folder (default RUN/eval/<env>-<kwargs>/, replaced each time); never RUN."""
    overwrite: bool = False
    """Clear an explicit --out first when it holds an earlier evaluation."""

    LIMITS: ClassVar[dict] = {"episodes": AT_LEAST_ONE, "seed": NON_NEGATIVE}


def load_policy(run: Path) -> np.ndarray:
    path = Path(run) / "policy.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} (or agent.json) not found: evaluate needs a run "
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


def eval_folder_name(env_id: str, kwargs: dict) -> str:
    """`<env>-<k=v,...>` with characters outside [A-Za-z0-9._=,+-] replaced by `_`."""
    text = env_id.replace("/", "_") + (
        "-" + ",".join(f"{k}={kwargs[k]!r}" for k in sorted(kwargs)) if kwargs else "")
    return "".join(c if c.isalnum() or c in "._=,+-" else "_" for c in text)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def evaluate_run(cfg: EvaluateConfig) -> dict:
    """Check everything, then evaluate the run's saved policy; writes the eval folder."""
    from tacsuite.agents.common import saved

    check_numbers(cfg)
    run = Path(cfg.run)
    if not run.is_dir():
        raise FileNotFoundError(f"run folder {run} not found")
    train_cfg = read_json(run / "config.json").get("config", {}) \
        if (run / "config.json").is_file() else {}
    env_id = cfg.env or train_cfg.get("env")
    if not env_id:
        raise FileNotFoundError(f"{run / 'config.json'} names no env; pass --env ID")
    kwargs = parse_kwargs(cfg.env_kwargs)
    if env_id == train_cfg.get("env"):  # the training env's own arguments, then the shift
        trained = train_cfg.get("env_kwargs") or {}
        kwargs = {**(parse_kwargs(trained) if isinstance(trained, str) else trained), **kwargs}
    check_env_kwargs(env_id, kwargs)
    has_policy = (run / "policy.json").is_file()
    if not has_policy:
        kind, meta, arrays = saved.load_agent(run)  # the clear error when there is none
    if cfg.out:
        out, explicit = Path(cfg.out), True
        if _inside(run, out):
            raise RunFolderError(f"--out {out} would hold the training run {run}: "
                                 f"evaluations write their own folder (default "
                                 f"{run / 'eval' / eval_folder_name(env_id, kwargs)})")
    else:
        out, explicit = run / "eval" / eval_folder_name(env_id, kwargs), False
    check_out(out)
    if has_policy:
        result = evaluate_policy(load_policy(run), env_id, kwargs, cfg.episodes, cfg.seed)
    else:
        returns = _saved_returns(kind, meta, arrays, env_id, kwargs, cfg.episodes, cfg.seed)
        result = {"env": env_id, "env_kwargs": kwargs, "episodes": cfg.episodes,
                  "seed": cfg.seed, "agent": meta.get("algo", kind), **mean_ci(returns)}
    result["run"] = str(run)
    with RunDir(out, cfg, overwrite=cfg.overwrite or not explicit) as ev:
        ev.write_result(result)
    result["out"] = str(out)
    return result


def _saved_returns(kind: str, meta: dict, arrays: dict, env_id: str, kwargs: dict,
                   episodes: int, seed: int) -> np.ndarray:
    """Test returns of a saved agent, by the kind of agent it is."""
    if kind == "linear":
        from tacsuite.agents.common.linear import learner_from_model
        from tacsuite.agents.common.linear_runs import evaluate_learner

        return evaluate_learner(learner_from_model(meta, arrays), env_id, kwargs, episodes,
                                seed)
    from tacsuite.agents.common.trajectories import evaluate

    env = gym.make(env_id, **kwargs)
    obs_dim, act_dim = env.observation_space.shape, env.action_space.shape
    env.close()
    want = (int(meta.get("obs_dim", meta.get("n_in", 0)) - (meta.get("target") is not None
                                                            and kind == "mlp-actor")),)
    if obs_dim != want or act_dim != (int(meta.get("act_dim", meta.get("n_out", 0))),):
        raise ValueError(f"the saved {meta.get('algo', kind)} agent acts on observations of "
                         f"shape {want}; {env_id} has {env.observation_space} and "
                         f"{env.action_space}")
    if kind == "mlp-actor":
        from tacsuite.agents.common.offline import mlp_actor_from_saved

        actor = mlp_actor_from_saved(meta, arrays)[0]
    elif kind == "dt-lite":
        from tacsuite.agents.dt_lite import actor_from_saved

        actor = actor_from_saved(meta, arrays)
    else:
        from tacsuite.agents.common.saved import SavedAgentError

        raise SavedAgentError(f"evaluate cannot run a saved {kind!r} agent")
    return evaluate(env_id, actor, episodes, seed, kwargs)["returns"]


def main(argv: list[str], prog: str) -> int:
    cfg = run_config(EvaluateConfig, argv, prog,
                     description="Mean return (95% CI) of a trained run's policy in an "
                                 "environment, e.g. a shifted test env via --env-kwargs q=0.6; "
                                 "writes RUN/eval/<env>-<kwargs>/result.json (or --out).")
    result = evaluate_run(cfg)
    print(json.dumps(result))
    return 0
