"""A one-step model of binary observations: per-bit Bernoulli next observation, reward and
termination heads on one trunk (the "simple model" of Young et al., 2023)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from tacsuite.agents.common.mlp import ACTIVATIONS

NEXT_OBS_MODES = ("sample", "mode")


class BitModel(nn.Module):
    """p(o' | o, a) = prod_i Bernoulli(o'_i; sigmoid(l_i)), r ~ N(mu, 1), p(done) = sigmoid."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: Sequence[int] = (64, 64),
                 activation: str = "elu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {activation!r}")
        self.obs_dim, self.n_actions = obs_dim, n_actions
        layers: list[nn.Module] = []
        last = obs_dim + n_actions
        for h in hidden:
            layers += [nn.Linear(last, int(h)), ACTIVATIONS[activation]()]
            last = int(h)
        self.trunk = nn.Sequential(*layers)
        self.next_obs = nn.Linear(last, obs_dim)
        self.reward = nn.Linear(last, 1)
        self.done = nn.Linear(last, 1)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(next-bit logits (B, d), reward mean (B,), termination logit (B,))."""
        x = torch.cat([obs, F.one_hot(actions, self.n_actions).to(obs.dtype)], 1)
        h = self.trunk(x)
        return self.next_obs(h), self.reward(h).squeeze(1), self.done(h).squeeze(1)

    def loss(self, obs, actions, rewards, next_obs, terminated) -> dict[str, torch.Tensor]:
        """Negative log-likelihoods per transition, averaged; terminal steps skip o'.

        After a termination the next observation is whatever reset produced, which the
        model need not predict: only reward and termination are learned there.
        """
        logits, mu, done_logit = self(obs, actions)
        bits = F.binary_cross_entropy_with_logits(logits, next_obs, reduction="none").sum(1)
        obs_nll = ((1.0 - terminated) * bits).mean()
        reward_nll = 0.5 * ((mu - rewards) ** 2).mean()
        done_nll = F.binary_cross_entropy_with_logits(done_logit, terminated)
        return {"obs": obs_nll, "reward": reward_nll, "done": done_nll,
                "total": obs_nll + reward_nll + done_nll}

    @torch.no_grad()
    def sample(self, obs: torch.Tensor, actions: torch.Tensor, mode: str = "sample"
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(next obs, predicted reward, continuation probability) for a batch.

        `mode="sample"` draws every bit from its Bernoulli; `mode="mode"` takes each bit's
        most likely value, which keeps long rollouts on the states the data showed
        (independent per-bit draws can combine into observations no env produces).
        """
        if mode not in NEXT_OBS_MODES:
            raise ValueError(f"mode must be one of {NEXT_OBS_MODES}, got {mode!r}")
        logits, mu, done_logit = self(obs, actions)
        if mode == "mode":
            nxt = (logits > 0).to(obs.dtype)
        else:
            nxt = torch.bernoulli(torch.sigmoid(logits))
        return nxt, mu, torch.sigmoid(-done_logit)
