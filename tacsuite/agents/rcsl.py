"""RCSL: return-conditioned supervised learning, a = pi(s, return-to-go).

A deterministic MLP regresses actions on [observation, return-to-go] (Emmons et al.'s
RvS; the output policy of MBRCSL). At test time it is conditioned on a target return,
decreased by the reward collected so far. Conditioned on more than any dataset episode
achieved, it cannot stitch: it only reproduces behaviour seen with the nearest RTGs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tacsuite.agents.common.mlp import Standardizer, fit, mlp, tensor
from tacsuite.agents.common.offline import (
    MLP_ACTOR,
    Checkpoints,
    OfflineConfig,
    evaluate_actor,
    mlp_actor_from_saved,
    open_run,
    resumed_agent,
    save_mlp_actor,
    start,
    write_result,
)
from tacsuite.agents.common.trajectories import episode_returns, flatten


@dataclass
class Config(OfflineConfig):
    out: str = "runs/rcsl"
    epochs: int = 40
    """Training epochs."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes."""
    lr: float = 1e-3
    """Adam learning rate."""
    batch: int = 256
    """Minibatch size."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    target: str = "max"
    """Conditioning return at test time: 'max' of the training returns, or 'pNN' (percentile)."""


class RCSLPolicy:
    """pi(s, g) -> a trained by MSE; `actor(target)` gives an evaluation callable."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int] = (256, 256)):
        self.net = mlp(obs_dim + 1, act_dim, hidden)

    def fit(self, episodes: list[dict], rng: np.random.Generator, epochs: int, lr: float,
            batch: int, weight_decay: float = 0.0, run=None, stage: str = "rcsl"
            ) -> list[float]:
        """Train; with `run` the epochs are checkpointed there for `--resume`."""
        flat = flatten(episodes)
        x = np.concatenate([flat["observations"], flat["rtg"][:, None]], axis=1)
        self.scale = Standardizer(x)
        xt, yt = self.scale(tensor(x)), tensor(flat["actions"])
        return fit(self.net.parameters(),
                   lambda i: ((self.net(xt[i]) - yt[i]) ** 2).mean(), len(xt), epochs, batch,
                   lr, rng, weight_decay, desc=stage,
                   checkpoints=None if run is None else Checkpoints(run, stage, rng,
                                                                     net=self.net))

    @torch.no_grad()
    def act(self, obs: np.ndarray, rtg: np.ndarray) -> np.ndarray:
        x = np.concatenate([obs, np.asarray(rtg).reshape(-1, 1)], axis=1)
        return self.net(self.scale(tensor(x))).numpy()

    def actor(self, target: float):
        return lambda obs, collected, t: self.act(obs, target - collected)


def conditioning_target(returns: np.ndarray, rule: str) -> float:
    """'max' or 'pNN' (e.g. 'p90') of a set of episode returns."""
    if rule == "max":
        return float(np.max(returns))
    if rule.startswith("p"):
        try:
            q = float(rule[1:])
        except ValueError:
            q = -1.0
        if 0.0 <= q <= 100.0:
            return float(np.percentile(returns, q))
    raise ValueError(f"target must be 'max' or 'pNN' with NN in [0, 100], got {rule!r}")


def train(config: Config) -> dict:
    t0 = time.perf_counter()
    conditioning_target(np.zeros(1), config.target)  # a bad --target fails before any work
    with open_run(config) as run:
        rng, episodes = start(config)
        returns = episode_returns(episodes)
        prior = resumed_agent(run, (MLP_ACTOR,))
        if prior is None:
            obs_dim = episodes[0]["observations"].shape[1]
            act_dim = episodes[0]["actions"].shape[1]
            policy = RCSLPolicy(obs_dim, act_dim, config.hidden)
            loss = policy.fit(episodes, rng, config.epochs, config.lr, config.batch,
                              config.weight_decay, run=run)
            for epoch, value in enumerate(loss):
                run.log(epoch=epoch, loss=value)
            target = conditioning_target(returns, config.target)
            prior = save_mlp_actor(run, "rcsl", policy.net, policy.scale, config.hidden,
                                   {"train_loss": loss}, target=target)
        actor, _, _ = mlp_actor_from_saved(*prior)
        target = prior[0]["target"]
        result = write_result(run, config, evaluate_actor(config, actor), t0,
                              prior[0]["curves"], target_return=target,
                              dataset_max_return=float(returns.max()))
    return result
