"""Trajectory utilities: returns-to-go, flattening, lock-step evaluation, result files."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from tacsuite.common import stats

# act(obs (N, d), reward collected so far (N,), step t) -> actions (N, a)
Actor = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def returns_to_go(rewards: np.ndarray) -> np.ndarray:
    """rtg[t] = sum of rewards from step t to the end (undiscounted, as in RCSL/DT)."""
    r = np.asarray(rewards, dtype=np.float64)
    return np.cumsum(r[::-1])[::-1].copy()


def episode_returns(episodes: list[dict]) -> np.ndarray:
    return np.array([float(np.sum(ep["rewards"])) for ep in episodes])


def flatten(episodes: list[dict]) -> dict[str, np.ndarray]:
    """Per-step arrays with returns-to-go and time index (RCSL/DT training inputs)."""
    if not episodes:
        raise ValueError("flatten needs at least one episode")
    return {
        "observations": np.concatenate([ep["observations"][:-1] for ep in episodes]
                                       ).astype(np.float32),
        "actions": np.concatenate([ep["actions"] for ep in episodes]).astype(np.float32),
        "rtg": np.concatenate([returns_to_go(ep["rewards"]) for ep in episodes]
                              ).astype(np.float32),
        "timesteps": np.concatenate([np.arange(len(ep["rewards"])) for ep in episodes]),
    }


def top_fraction(episodes: list[dict], fraction: float) -> list[dict]:
    """The best `fraction` of episodes by return (at least one), for %BC."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    order = np.argsort(-episode_returns(episodes), kind="stable")
    keep = max(1, int(round(fraction * len(episodes))))
    return [episodes[i] for i in order[:keep]]


def evaluate(env_id: str, actor: Actor, episodes: int, seed: int,
             env_kwargs: dict | None = None, record: bool = False) -> dict:
    """Run `episodes` copies of the env in lock step (episode i reset with seed + i).

    Returns per-episode returns, success flags (any `info["is_success"]`), and with
    `record` the observation paths (episodes, T+1, d).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    envs = [gym.make(env_id, **(env_kwargs or {})) for _ in range(episodes)]
    obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(envs)])
    done = np.zeros(episodes, bool)
    ret = np.zeros(episodes)
    success = np.zeros(episodes, bool)
    paths = [obs.copy()]
    t = 0
    while not done.all():
        act = np.asarray(actor(obs, ret.copy(), t), dtype=np.float32)
        for i, env in enumerate(envs):
            if done[i]:
                continue
            a = np.clip(act[i], env.action_space.low, env.action_space.high)
            o, r, term, trunc, info = env.step(a)
            obs[i], ret[i] = o, ret[i] + r
            success[i] |= bool(info.get("is_success", False))
            done[i] = term or trunc
        paths.append(obs.copy())
        t += 1
    for e in envs:
        e.close()
    out = {"returns": ret, "success": success}
    if record:
        out["paths"] = np.stack(paths, axis=1)
    return out


def summarize(env_id: str, evaluation: dict, seconds: float, curves: dict,
              **extra) -> dict:
    """The result.json fields every offline agent writes."""
    from tacsuite.envs.datasets import normalized_score

    ret = evaluation["returns"]
    mean = float(np.mean(ret))
    return {"eval_return": mean, "eval_return_ci": stats.mean_ci(ret),
            "normalized_score": normalized_score(env_id, mean),
            "success_rate": float(np.mean(evaluation["success"])),
            "seconds": float(seconds), "curves": curves, **extra}
