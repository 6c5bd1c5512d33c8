"""SAC (Stable-Baselines3, MlpPolicy) on a tactile task's native vector env."""

from __future__ import annotations

from dataclasses import dataclass

from tacsuite.agents.common.sb3_tactile import SB3Config, summary, train_sb3  # noqa: F401


@dataclass
class Config(SB3Config):
    out: str = "runs/sac"
    """Run folder (config.json, result.json, returns.npy, curve.png)."""
    learning_starts: int = 200
    """Environment steps before the first update."""
    lr: float = 3e-4
    """Adam learning rate."""


def train(config: Config) -> dict:
    from stable_baselines3 import SAC

    def make(venv):
        return SAC("MlpPolicy", venv, learning_starts=config.learning_starts,
                   learning_rate=config.lr, seed=config.seed, device="cpu", verbose=0)

    return train_sb3(config, "sac", make)
