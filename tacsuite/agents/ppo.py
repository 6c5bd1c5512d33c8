"""PPO (Stable-Baselines3, MlpPolicy) on a tactile task's native vector env."""

from __future__ import annotations

from dataclasses import dataclass

from tacsuite.agents.common.sb3_tactile import SB3Config, summary, train_sb3  # noqa: F401


@dataclass
class Config(SB3Config):
    out: str = "runs/ppo"
    """Run folder (config.json, result.json, returns.npy, curve.png)."""
    n_steps: int = 64
    """Rollout length per environment between updates."""
    lr: float = 3e-4
    """Adam learning rate."""


def train(config: Config) -> dict:
    from stable_baselines3 import PPO

    if config.n_steps < 1 or config.n_envs < 1:
        raise ValueError(f"n_steps and n_envs must be >= 1, got {config.n_steps}, "
                         f"{config.n_envs}")
    # The largest mini-batch up to 64 that divides the rollout, so no update runs on a
    # truncated remainder (SB3 warns about one).
    rollout = config.n_steps * config.n_envs
    batch = max(d for d in range(1, min(64, rollout) + 1) if rollout % d == 0)

    def make(venv):
        return PPO("MlpPolicy", venv, n_steps=config.n_steps, batch_size=batch,
                   learning_rate=config.lr, seed=config.seed, device="cpu", verbose=0)

    return train_sb3(config, "ppo", make)
