"""Demo: RiverSwim policies against the exact optimal gain."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from tacsuite.common import atomic, plots
from tacsuite.theory.average_reward import optimal_gain, policy_gain


def rollout_average(env_id: str, policy, steps: int, seed: int) -> np.ndarray:
    env = gym.make(env_id, max_episode_steps=-1)
    s, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rewards = np.empty(steps)
    for t in range(steps):
        a = int(rng.choice(2, p=policy[s]))
        s, rewards[t], *_ = env.step(a)
    env.close()
    return np.cumsum(rewards) / np.arange(1, steps + 1)


def run(out: Path, steps: int = 20_000) -> dict:
    env = gym.make("tacsuite/RiverSwim-v0")
    P, R = env.unwrapped.P, env.unwrapped.R
    env.close()
    best = optimal_gain(P, R)
    policies = {"optimal (always right)": np.eye(2)[best.policy],
                "always left": np.eye(2)[np.zeros(len(P), int)],
                "uniform random": np.full((len(P), 2), 0.5)}
    fig, axes = plots.figure(width=6)
    ax = axes[0, 0]
    summary = {"optimal_gain": best.gain}
    for (name, pi), color in zip(policies.items(), plots.PALETTE, strict=False):
        avg = rollout_average("tacsuite/RiverSwim-v0", pi, steps, seed=0)
        exact = float(policy_gain(P, R, pi)[0][0])
        ax.plot(np.arange(1, steps + 1), avg, color=color, label=f"{name}")
        ax.axhline(exact, color=color, ls="--", lw=0.8)
        summary[name] = {"exact_gain": exact, "empirical_gain": float(avg[-1])}
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("running average reward")
    ax.set_title("RiverSwim-v0: empirical vs exact gain (dashed)")
    ax.legend(fontsize=8)
    atomic.savefig(out / "river_swim.png", fig)
    plots.close(fig)
    summary["png"] = "river_swim.png"
    return summary
