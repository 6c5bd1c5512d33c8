"""Probabilistic dynamics ensemble (MOPO / OfflineRL-Kit style) with elite selection.

Each member is an MLP predicting a diagonal Gaussian over (next_obs - obs, reward). The
log-variance is soft-clamped between learned bounds, the members share one batched
forward pass, each keeps its best-holdout weights, and the `n_elites` members with the
lowest holdout MSE are the ones sampled at rollout time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tacsuite.agents.common.mlp import Standardizer, tensor
from tacsuite.common.progress import trange


class BatchedLinear(nn.Module):
    def __init__(self, members: int, n_in: int, n_out: int):
        super().__init__()
        bound = 1.0 / np.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(members, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(members, 1, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (members, batch, n_in)
        return torch.baddbmm(self.bias, x, self.weight)


class GaussianEnsembleNet(nn.Module):
    def __init__(self, members: int, n_in: int, n_out: int, hidden: tuple[int, ...]):
        super().__init__()
        sizes = (n_in, *hidden)
        self.layers = nn.ModuleList(BatchedLinear(members, a, b)
                                    for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.head = BatchedLinear(members, sizes[-1], 2 * n_out)
        self.max_logvar = nn.Parameter(torch.full((1, 1, n_out), 0.5))
        self.min_logvar = nn.Parameter(torch.full((1, 1, n_out), -10.0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.layers:
            x = F.silu(layer(x))
        mean, logvar = self.head(x).chunk(2, dim=-1)
        logvar = self.max_logvar - F.softplus(self.max_logvar - logvar)
        logvar = self.min_logvar + F.softplus(logvar - self.min_logvar)
        return mean, logvar


@dataclass
class EnsembleConfig:
    members: int = 5
    """Ensemble size."""
    elites: int = 3
    """Members kept for sampling (lowest holdout MSE)."""
    hidden: tuple[int, ...] = (200, 200, 200)
    """Hidden layer sizes of each member."""
    epochs: int = 30
    """Training epochs over the training split."""
    batch: int = 256
    """Minibatch size."""
    lr: float = 1e-3
    """Adam learning rate."""
    weight_decay: float = 5e-5
    """AdamW weight decay."""
    holdout: float = 0.1
    """Fraction of transitions held out to pick each member's best epoch and the elites."""
    standardize_targets: bool = True
    """Fit standardized (delta, reward) targets; False fits them in raw units, as MBPO's and
    VaGraM's code do, where a dimension's weight in a squared error is its scale."""


class DynamicsEnsemble:
    """Learned (obs, action) -> (next_obs, reward) model sampled through random elites."""

    def __init__(self, obs_dim: int, act_dim: int, config: EnsembleConfig | None = None):
        self.cfg = config or EnsembleConfig()
        if not 1 <= self.cfg.elites <= self.cfg.members:
            raise ValueError(f"elites must be in [1, members={self.cfg.members}], "
                             f"got {self.cfg.elites}")
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.net = GaussianEnsembleNet(self.cfg.members, obs_dim + act_dim, obs_dim + 1,
                                       tuple(self.cfg.hidden))
        self.elite_ids = np.arange(self.cfg.elites)
        self.holdout_mse = np.full(self.cfg.members, np.nan)
        self.reward_range = (-np.inf, np.inf)

    def _targets(self, obs, act, next_obs, rew) -> tuple[np.ndarray, np.ndarray]:
        x = np.concatenate([obs, act], axis=1)
        y = np.concatenate([next_obs - obs, np.asarray(rew).reshape(-1, 1)], axis=1)
        return x, y

    def fit(self, obs, act, next_obs, rew, rng: np.random.Generator, *, loss=None,
            weight: np.ndarray | None = None, patience: int | None = None) -> list[float]:
        """Gaussian-NLL training of the next state, MSE of the reward; returns the mean holdout
        score per epoch (MSE of the standardized outputs).

        `loss` (a `tacsuite.agents.model_losses` function) replaces that objective; then
        `weight` (n, obs_dim), the per-transition value-gradient weights in raw units,
        goes to it rescaled into standardized units, and the holdout score that picks each
        member's best epoch and the elites is the loss itself. `patience` stops after that
        many epochs in which no member improved its holdout score.
        """
        x, y = self._targets(obs, act, next_obs, rew)
        self.reward_range = (float(np.min(rew)), float(np.max(rew)))
        n = len(x)
        perm = rng.permutation(n)
        n_hold = max(1, min(int(self.cfg.holdout * n), 5000))
        hold, train = perm[:n_hold], perm[n_hold:]
        self.in_scale = Standardizer(x[train])
        self.out_scale = Standardizer(y[train]) if self.cfg.standardize_targets else \
            Standardizer.from_arrays(np.zeros(y.shape[1]), np.ones(y.shape[1]))
        xt, yt = self.in_scale(tensor(x)), self.out_scale(tensor(y))
        wt = None if weight is None else tensor(weight) * self.out_scale.std[:-1] ** 2
        members = self.cfg.members
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.cfg.lr,
                                weight_decay=self.cfg.weight_decay)
        best = np.full(members, np.inf)
        best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        curve, stale = [], 0
        for _ in trange(self.cfg.epochs, desc="dynamics", unit="epoch"):
            # each member sees its own bootstrap-free shuffle of the training split
            orders = np.stack([rng.permutation(train) for _ in range(members)])
            for start in range(0, len(train), self.cfg.batch):
                idx = torch.as_tensor(orders[:, start:start + self.cfg.batch])
                mean, logvar = self.net(xt[idx])
                target = yt[idx]
                if loss is not None:
                    objective = loss(mean, logvar, target, None if wt is None else wt[idx])
                    opt.zero_grad(set_to_none=True)
                    objective.backward()
                    opt.step()
                    continue
                err = (mean - target) ** 2
                # The reward column is fitted by plain MSE: only its mean is used, and a
                # rare, sharp reward (a small goal disk) is otherwise absorbed into a large
                # learned variance, leaving the mean far below the true reward.
                nll = torch.cat([err[..., :-1] * torch.exp(-logvar[..., :-1])
                                 + logvar[..., :-1], err[..., -1:]], -1).mean()
                bound = 0.01 * (self.net.max_logvar.sum() - self.net.min_logvar.sum())
                opt.zero_grad(set_to_none=True)
                (nll + bound).backward()
                opt.step()
            with torch.no_grad():
                mean, logvar = self.net(xt[hold].expand(members, -1, -1))
                if loss is not None and wt is not None:
                    # each member's own loss on the holdout: one call per member
                    mse = np.array([float(loss(mean[m:m + 1], logvar[m:m + 1], yt[hold],
                                                wt[hold])) for m in range(members)])
                else:
                    mse = ((mean - yt[hold]) ** 2).mean(dim=(1, 2)).numpy()
            curve.append(float(mse.mean()))
            improved = mse < best
            stale = 0 if improved.any() else stale + 1
            best = np.where(improved, mse, best)
            for k, v in self.net.state_dict().items():
                if v.shape[0] == members:
                    best_state[k][improved] = v.detach()[improved]
                else:
                    best_state[k] = v.detach().clone()
            if patience is not None and stale >= patience:
                break
        self.net.load_state_dict(best_state)
        self.holdout_mse = best
        self.elite_ids = np.argsort(best)[: self.cfg.elites]
        return curve

    @torch.no_grad()
    def predict(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std of every member's (delta_obs, reward), shape (members, batch, d+1)."""
        x = self.in_scale(tensor(np.concatenate([obs, act], axis=1)))
        mean, logvar = self.net(x.expand(self.cfg.members, -1, -1))
        std = torch.exp(0.5 * logvar) * self.out_scale.std
        return (mean * self.out_scale.std + self.out_scale.mean).numpy(), std.numpy()

    def step(self, obs: np.ndarray, act: np.ndarray, rng: np.random.Generator,
             sample: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Next observations (sampled from a random elite per row) and mean rewards.

        The reward is the chosen elite's mean, clipped to the dataset's reward range: a
        sampled reward would add noise to the return filter without adding information.
        """
        mean, std = self.predict(obs, act)
        pick = self.elite_ids[rng.integers(0, len(self.elite_ids), size=len(obs))]
        rows = np.arange(len(obs))
        mu, sd = mean[pick, rows], std[pick, rows]
        delta = mu[:, :-1] + (sd[:, :-1] * rng.standard_normal(mu[:, :-1].shape) if sample
                              else 0.0)
        reward = np.clip(mu[:, -1], *self.reward_range)
        return obs + delta, reward
