"""The training loop and run files shared by the linear-MDP agents.

Environments provide `info["features"]` = phi(s, .) (A x d) at reset and every step, and
`horizon` on the unwrapped env; optional `max_reward` (the reward bound used to clip
optimistic values), `uncertain` (H x d mask of the factors the shift acts on) and, for
finite-state envs, `features(s)` and an exact d-rectangular `model` for the oracle.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tacsuite.agents.common import saved
from tacsuite.agents.common.linear import (
    LinearLearner,
    checkpoint_arrays,
    learner_from_checkpoint,
    learner_from_model,
    model_arrays,
)
from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.progress import progress
from tacsuite.common.runs import RunDir, RunFolderError, check_out
from tacsuite.common.seeding import set_seed
from tacsuite.common.validate import check_env_kwargs, check_numbers
from tacsuite.theory.robust import robust_policy_evaluation, robust_value_iteration

RHO_MASKS = ("env", "all")
AGENT_KIND = "linear"
CHECKPOINT_KIND = "linear-checkpoint"


def load_learner(run: str | Path) -> LinearLearner:
    """The policy a linear-agent run saved (data only: agent.json + arrays, no pickle)."""
    _, meta, arrays = saved.load_agent(run, kinds=(AGENT_KIND,))
    return learner_from_model(meta, arrays)


def load_trained_learner(run: str | Path) -> LinearLearner:
    """The learner exactly as a finished run left it: its last checkpoint, action RNG and
    per-state mirror-descent logits included (`load_learner` keeps only what acting at new
    states needs), so a test after the run draws the same actions as one in its process."""
    run = Path(run)
    result_path = run / "result.json"
    if not result_path.is_file():
        raise RunFolderError(f"{run} holds no finished run ({result_path} not found)")
    _, meta, arrays = saved.load_agent(run, kinds=(CHECKPOINT_KIND,), name=saved.CHECKPOINT)
    episodes = json.loads(result_path.read_text())["episodes"]
    if int(meta["episode"]) != episodes:
        raise RunFolderError(f"{run}: the last checkpoint is at episode {meta['episode']}, "
                             f"the run ended at episode {episodes}")
    return learner_from_checkpoint(meta, arrays)


def evaluate_learner(learner: LinearLearner, env_id: str, env_kwargs: str | dict,
                     episodes: int, seed: int) -> np.ndarray:
    """Test returns of a trained learner's current policy (no learning)."""
    env = make_env(env_id, env_kwargs)
    learner.rng = np.random.default_rng(seed)
    out = np.array([run_episode(env, learner, seed=seed if k == 0 else None, learn=False)
                    for k in range(episodes)])
    env.close()
    return out


def make_env(env_id: str, env_kwargs: str | dict[str, Any]) -> gym.Env:
    kwargs = parse_kwargs(env_kwargs) if isinstance(env_kwargs, str) else dict(env_kwargs)
    check_env_kwargs(env_id, kwargs)
    env = gym.make(env_id, **kwargs)
    if not isinstance(env.action_space, spaces.Discrete):
        raise ValueError(f"{env_id} has action space {env.action_space}; the linear agents "
                         f"need Discrete actions")
    if not hasattr(env.unwrapped, "horizon"):
        raise ValueError(f"{env_id} declares no `horizon`; the linear agents need an "
                         f"episodic env with info['features'] (e.g. "
                         f"tacsuite/SimulatedLinearMDP-v0)")
    return env


def rho_grid(env: gym.Env, rho: float, mask: str, d: int) -> np.ndarray:
    """(H, d) radii: `rho` on the env's declared uncertain factors ("env") or on all."""
    if mask not in RHO_MASKS:
        raise ValueError(f"rho_mask {mask!r} is not one of {RHO_MASKS}")
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be >= 0, got {rho}")
    H = int(env.unwrapped.horizon)
    where = getattr(env.unwrapped, "uncertain", None)
    if mask == "all" or where is None:
        where = np.ones((H, d), dtype=bool)
    return rho * np.asarray(where, dtype=np.float64)


def build_learner(env: gym.Env, d: int, rho: np.ndarray, seed: int, **kw) -> LinearLearner:
    return LinearLearner(int(env.unwrapped.horizon), int(env.action_space.n), d, rho=rho,
                         max_reward=float(getattr(env.unwrapped, "max_reward", 1.0)),
                         seed=seed, **kw)


def run_episode(env: gym.Env, learner: LinearLearner, seed: int | None = None,
                learn: bool = True) -> float:
    _, info = env.reset(seed=seed)
    feats = info["features"]
    total = 0.0
    for h in range(learner.H):
        a = learner.act(h, feats)
        _, r, term, trunc, info = env.step(a)
        total += r
        if learn:
            nxt = None if term or h == learner.H - 1 else info["features"]
            learner.observe(h, feats, a, r, nxt)
        if term or trunc:
            break
        feats = info["features"]
    if learn:
        learner.plan()
    return total


def finite_state_features(env: gym.Env) -> np.ndarray | None:
    """phi(s, .) for every state of a finite-state env, or None."""
    u = env.unwrapped
    if isinstance(env.observation_space, spaces.Discrete) and hasattr(u, "features"):
        return np.stack([u.features(s) for s in range(env.observation_space.n)])
    return None


def oracle_report(env: gym.Env, learner: LinearLearner, policy: np.ndarray,
                  rho: np.ndarray) -> dict | None:
    """Exact robust values of the learned policy and of the optimum, same objective."""
    model = getattr(env.unwrapped, "model", None)
    if model is None:
        return None
    kw = dict(rho=rho, divergence=learner.divergence, penalised=learner.penalised)
    best = robust_value_iteration(model, beta=learner.beta, **kw)
    mine = robust_policy_evaluation(model, policy, beta=learner.beta, **kw)
    best_hard = robust_value_iteration(model, **kw)
    mine_hard = robust_policy_evaluation(model, policy, **kw)
    s0 = model.initial
    return {"optimal_regularised_robust_value": best.value(s0),
            "policy_regularised_robust_value": mine.value(s0),
            "suboptimality": best.value(s0) - mine.value(s0),
            "optimal_robust_value": best_hard.value(s0),
            "policy_robust_value": mine_hard.value(s0),
            "policy_nominal_value": robust_policy_evaluation(model, policy).value(s0)}


def _save_checkpoint(run: RunDir, learner: LinearLearner, env: gym.Env, k: int,
                     returns: np.ndarray, subopt: np.ndarray | None) -> None:
    meta, arrays = checkpoint_arrays(learner)
    meta.update(episode=k, env_rng=env.unwrapped.np_random.bit_generator.state)
    arrays["returns"] = returns[:k]
    if subopt is not None:
        arrays["suboptimality"] = subopt[:k]
    saved.save_agent(run.path, CHECKPOINT_KIND, meta, arrays, name=saved.CHECKPOINT)


def _resume(run: RunDir, config, env: gym.Env, returns: np.ndarray,
            subopt: np.ndarray | None) -> tuple[LinearLearner, int]:
    _, meta, arrays = saved.load_agent(run.path, kinds=(CHECKPOINT_KIND,),
                                       name=saved.CHECKPOINT)
    k = int(meta["episode"])
    if k > config.episodes:
        raise RunFolderError(f"--resume: {run.path} is already at episode {k}, beyond "
                             f"--episodes {config.episodes}")
    learner = learner_from_checkpoint(meta, arrays)
    env.unwrapped.np_random.bit_generator.state = meta["env_rng"]
    returns[:k] = arrays["returns"]
    if subopt is not None:
        subopt[:k] = arrays["suboptimality"]
    run.keep_metrics(lambda rec: rec.get("episode", 0) <= k)
    return learner, k


def train_linear(config, algo: str, learner_kwargs: dict[str, Any],
                 rho: float = 0.0, rho_mask: str = "env", plan_robust: bool = True,
                 track_suboptimality: bool = False) -> tuple[LinearLearner, dict]:
    """Train in the environment of `config`, write the run folder, return (learner, result).

    `rho` and `rho_mask` define the uncertainty set; the learner plans against it when
    `plan_robust`, and the exact oracle (finite-state envs) always reports robust values
    for it, so non-robust baselines are scored on the same objective. The run folder gets
    a checkpoint every tenth of the episodes (`--resume` continues from the last one) and
    the final model as `agent.json` (what `tacsuite evaluate` loads).
    """
    check_numbers(config)
    if config.out:
        check_out(config.out)
    set_seed(config.seed)
    env = make_env(config.env, config.env_kwargs)
    _, info = env.reset(seed=config.seed)
    d = int(info["features"].shape[-1])
    radii = rho_grid(env, rho, rho_mask, d)
    learner = build_learner(env, d, radii if plan_robust else np.zeros_like(radii),
                            config.seed, **learner_kwargs)
    states = finite_state_features(env)
    model = getattr(env.unwrapped, "model", None)
    track = track_suboptimality and model is not None and states is not None
    returns = np.empty(config.episodes)
    subopt = np.empty(config.episodes) if track else None
    run = RunDir(config.out, config, seed=config.seed, resumable=True) if config.out else None
    try:
        first = 0
        if run is not None and run.resumed:
            run.check_resume(changeable=("episodes",))
            if saved.has_agent(run.path, saved.CHECKPOINT):
                learner, first = _resume(run, config, env, returns, subopt)
            else:  # killed before its first checkpoint: nothing to continue from
                run.keep_metrics(lambda rec: False)
        result = _train_loop(config, algo, env, learner, run, states, model, radii, track,
                             returns, subopt, first)
    finally:
        if run is not None:
            run.close()
        env.close()
    return learner, result


def _train_loop(config, algo, env, learner, run, states, model, radii, track, returns,
                subopt, first: int) -> dict:
    if track:
        kw = dict(rho=radii, divergence=learner.divergence,
                  penalised=learner.penalised, beta=learner.beta)
        v_star = robust_value_iteration(model, **kw).value(model.initial)
    every = max(1, config.episodes // 10)
    t0 = time.perf_counter()
    bar = progress(total=config.episodes, desc=algo, unit="episode")
    bar.update(first)
    for k in range(first, config.episodes):
        if track:
            pi = learner.policy_table(states)
            subopt[k] = v_star - robust_policy_evaluation(model, pi, **kw).value(model.initial)
        returns[k] = run_episode(env, learner, seed=config.seed if k == 0 else None)
        bar.update(1)
        if run is not None and (k + 1) % max(1, config.episodes // 20) == 0:
            run.log(episode=k + 1, mean_return=float(returns[max(0, k - 99):k + 1].mean()))
        if run is not None and ((k + 1) % every == 0 or k + 1 == config.episodes):
            _save_checkpoint(run, learner, env, k + 1, returns, subopt)
    bar.close()
    seconds = time.perf_counter() - t0
    trained = max(1, config.episodes - first)
    tail = returns[-max(1, config.episodes // 10):]
    result: dict[str, Any] = {"algo": algo, "env": config.env, "episodes": config.episodes,
                              "seed": config.seed, "mean_return": float(returns.mean()),
                              "mean_return_last_10pct": float(tail.mean()),
                              "seconds": seconds,
                              "ms_per_episode": 1000 * seconds / trained}
    if first:
        result["resumed_at_episode"] = first
    if states is not None:
        policy = learner.policy_table(states)
        result["policy_shape"] = list(policy.shape)
        oracle = oracle_report(env, learner, policy, radii)
        if oracle is not None:
            result["oracle"] = oracle
        if run is not None:
            run.save_json("policy.json", {"probs": policy.tolist()})
    if subopt is not None:
        result["average_suboptimality"] = float(subopt.mean())
        learner.suboptimality = subopt
    if run is not None:
        meta, arrays = model_arrays(learner)
        saved.save_agent(run.path, AGENT_KIND, dict(meta, algo=algo, env=config.env),
                         arrays)
        run.save_array("returns", returns)
        if subopt is not None:
            run.save_array("suboptimality", subopt)
        run.write_result(result)
    return result
