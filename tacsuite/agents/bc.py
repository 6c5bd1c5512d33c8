"""Behaviour cloning (BC) and filtered BC (%BC: clone only the top fraction of episodes)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from tacsuite.agents.common.mlp import Standardizer, fit, mlp, tensor
from tacsuite.agents.common.offline import OfflineConfig, env_kwargs, start
from tacsuite.agents.common.trajectories import (
    episode_returns,
    evaluate,
    flatten,
    summarize,
    top_fraction,
)
from tacsuite.common.runs import RunDir


@dataclass
class Config(OfflineConfig):
    out: str = "runs/bc"
    """Run folder (config.json, metrics.jsonl, result.json)."""
    fraction: float = 1.0
    """Share of episodes (best returns first) to clone: 1.0 = BC, 0.1 = %BC."""
    epochs: int = 30
    """Training epochs."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes."""
    lr: float = 1e-3
    """Adam learning rate."""
    batch: int = 256
    """Minibatch size."""


def train(config: Config) -> dict:
    t0 = time.perf_counter()
    rng, episodes = start(config)
    run = RunDir(config.out, config)
    kept = top_fraction(episodes, config.fraction)
    flat = flatten(kept)
    scale = Standardizer(flat["observations"])
    x, y = scale(tensor(flat["observations"])), tensor(flat["actions"])
    net = mlp(x.shape[1], y.shape[1], config.hidden)
    loss = fit(net.parameters(), lambda i: ((net(x[i]) - y[i]) ** 2).mean(), len(x),
               config.epochs, config.batch, config.lr, rng)
    for epoch, value in enumerate(loss):
        run.log(epoch=epoch, loss=value)

    @torch.no_grad()
    def actor(obs, collected, t):
        return net(scale(tensor(obs))).numpy()

    ev = evaluate(config.env, actor, config.eval_episodes, 10_000 * config.seed,
                  env_kwargs(config))
    result = summarize(config.env, ev, time.perf_counter() - t0, {"train_loss": loss},
                       episodes_cloned=len(kept),
                       dataset_max_return=float(np.max(episode_returns(episodes))))
    run.write_result(result)
    return result
