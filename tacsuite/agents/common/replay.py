"""A uniform experience-replay ring buffer for online agents with vector observations."""

from __future__ import annotations

import numpy as np


class ReplayBuffer:
    """Holds the last `capacity` transitions (obs, action, reward, next_obs, terminated).

    `terminated` is true termination only: a time-limit truncation is stored as
    non-terminal so bootstrapping continues through it.
    """

    def __init__(self, capacity: int, obs_dim: int):
        if capacity < 1 or obs_dim < 1:
            raise ValueError(f"need capacity >= 1 and obs_dim >= 1, got {capacity}, {obs_dim}")
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, np.float32)
        self.size = 0
        self._next = 0

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        i = self._next
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, float(terminated)
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """`batch` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, self.size, batch)
        return {"obs": self.obs[idx], "actions": self.actions[idx],
                "rewards": self.rewards[idx], "next_obs": self.next_obs[idx],
                "terminated": self.terminated[idx]}
