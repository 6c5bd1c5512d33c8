"""The configuration fields and start-up every offline agent shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.seeding import set_seed


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
    """Run folder (config.json, metrics.jsonl, result.json)."""
    eval_episodes: int = 20
    """Evaluation episodes (full horizon, no early termination)."""


def env_kwargs(config: OfflineConfig) -> dict[str, Any]:
    kw = config.env_kwargs
    return dict(kw) if isinstance(kw, dict) else parse_kwargs(kw)


def start(config: OfflineConfig) -> tuple[np.random.Generator, list[dict]]:
    """Seed everything and load (or generate) the dataset's episodes."""
    from tacsuite.envs import datasets

    if config.eval_episodes < 1:
        raise ValueError(f"eval_episodes must be >= 1, got {config.eval_episodes}")
    rng = set_seed(config.seed)
    episodes = datasets.load(config.dataset, config.dataset_seed)
    return rng, episodes
