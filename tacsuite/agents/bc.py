"""Behaviour cloning (BC) and filtered BC (%BC: clone only the top fraction of episodes)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

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
from tacsuite.agents.common.trajectories import episode_returns, flatten, top_fraction
from tacsuite.common.validate import Interval


@dataclass
class Config(OfflineConfig):
    out: str = "runs/bc"
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

    LIMITS: ClassVar[dict[str, Interval]] = {
        **OfflineConfig.LIMITS, "fraction": Interval(0.0, 1.0, lo_open=True)}


def train(config: Config) -> dict:
    t0 = time.perf_counter()
    with open_run(config) as run:
        rng, episodes = start(config)
        kept = top_fraction(episodes, config.fraction)
        prior = resumed_agent(run, (MLP_ACTOR,))
        if prior is None:
            flat = flatten(kept)
            scale = Standardizer(flat["observations"])
            x, y = scale(tensor(flat["observations"])), tensor(flat["actions"])
            net = mlp(x.shape[1], y.shape[1], config.hidden)
            loss = fit(net.parameters(), lambda i: ((net(x[i]) - y[i]) ** 2).mean(), len(x),
                       config.epochs, config.batch, config.lr, rng, desc="bc",
                       checkpoints=Checkpoints(run, "bc", rng, net=net))
            for epoch, value in enumerate(loss):
                run.log(epoch=epoch, loss=value)
            prior = save_mlp_actor(run, "bc", net, scale, config.hidden, {"train_loss": loss})
        actor, _, _ = mlp_actor_from_saved(*prior)
        result = write_result(run, config, evaluate_actor(config, actor), t0,
                              prior[0]["curves"], episodes_cloned=len(kept),
                              dataset_max_return=float(np.max(episode_returns(episodes))))
    return result
