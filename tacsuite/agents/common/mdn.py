"""Mixture-density behaviour policy: a multimodal alternative to diffusion BC on CPU.

At a junction where the data goes both "hold" and "turn right", a unimodal Gaussian
averages the two; a K-component mixture keeps both, which is what lets model rollouts
combine segments of different trajectories.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from tacsuite.agents.common.mlp import Standardizer, fit, mlp, tensor


class MixtureDensityPolicy(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, components: int = 5,
                 hidden: Sequence[int] = (256, 256)):
        super().__init__()
        if components < 1:
            raise ValueError(f"components must be >= 1, got {components}")
        self.k, self.act_dim = components, act_dim
        self.body = mlp(obs_dim, components * (1 + 2 * act_dim), hidden)
        self.scale: Standardizer | None = None

    def _heads(self, obs: torch.Tensor):
        out = self.body(self.scale(obs) if self.scale else obs)
        logits = out[:, : self.k]
        mean, log_std = out[:, self.k:].reshape(-1, self.k, 2 * self.act_dim).chunk(2, dim=-1)
        return logits, mean, log_std.clamp(-5.0, 1.0)

    def log_prob(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        logits, mean, log_std = self._heads(obs)
        z = (act[:, None, :] - mean) / torch.exp(log_std)
        comp = (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        return torch.logsumexp(torch.log_softmax(logits, -1) + comp, dim=-1)

    def fit(self, obs: np.ndarray, act: np.ndarray, rng: np.random.Generator, epochs: int = 30,
            batch: int = 256, lr: float = 1e-3) -> list[float]:
        self.scale = Standardizer(obs)
        o, a = tensor(obs), tensor(act)
        return fit(self.parameters(), lambda i: -self.log_prob(o[i], a[i]).mean(), len(o),
                   epochs, batch, lr, rng)

    @torch.no_grad()
    def sample(self, obs: np.ndarray, rng: np.random.Generator, low=-1.0, high=1.0,
               temperature: float = 1.0) -> np.ndarray:
        """One action per row; `temperature` scales every component's standard deviation."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        logits, mean, log_std = self._heads(tensor(obs))
        p = torch.softmax(logits, -1).numpy().astype(np.float64)
        u = rng.random((len(p), 1))
        comp = np.minimum((p.cumsum(1) < u).sum(1), self.k - 1)
        rows = np.arange(len(p))
        mu, sd = mean.numpy()[rows, comp], temperature * np.exp(log_std.numpy()[rows, comp])
        return np.clip(mu + sd * rng.standard_normal(mu.shape), low, high)
