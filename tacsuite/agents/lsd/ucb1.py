"""UCB1 (Auer et al. 2002) over arms, blind to the arms' states: the state-free baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacsuite.agents.lsd.online import LearnResult, run
from tacsuite.envs.lsd_instance import LSDInstance


@dataclass
class UCB1Config:
    seed: int = 0
    """Seed of the reward noise."""
    scale: float = 2.0
    """Exploration bonus sqrt(scale * log t / n)."""


class UCB1:
    def __init__(self, k: int, config: UCB1Config):
        self.scale = config.scale
        self.n = np.zeros(k)
        self.total = np.zeros(k)

    def act(self, t: int, state: np.ndarray) -> int:
        if np.any(self.n == 0):
            return int(np.argmin(self.n))
        idx = self.total / self.n + np.sqrt(self.scale * np.log(t + 1) / self.n)
        return int(np.argmax(idx))

    def update(self, t: int, arm: int, state: int, reward: float) -> None:
        self.n[arm] += 1
        self.total[arm] += reward


def learn(instance: LSDInstance, config: UCB1Config | None = None) -> LearnResult:
    config = config or UCB1Config()
    return run(instance, UCB1(instance.k, config), config.seed)
