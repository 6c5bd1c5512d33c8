"""Decision-Transformer-lite: a small causal transformer over (return-to-go, state, action).

Chen et al. (2021) at CPU size: K-step context of interleaved RTG, state and action
tokens with a learned timestep embedding; the action is read from each state token and
trained by MSE. At test time it is conditioned on a target return that is decreased by
the reward collected so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from tacsuite.agents.common import saved
from tacsuite.agents.common.mlp import Standardizer, fit, tensor
from tacsuite.agents.common.offline import (
    Checkpoints,
    OfflineConfig,
    evaluate_actor,
    open_run,
    resumed_agent,
    start,
    write_result,
)
from tacsuite.agents.common.trajectories import episode_returns, returns_to_go
from tacsuite.agents.rcsl import conditioning_target
from tacsuite.common.validate import AT_LEAST_ONE, Interval

DT_KIND = "dt-lite"


@dataclass
class Config(OfflineConfig):
    out: str = "runs/dt_lite"
    context: int = 10
    """Context length K in timesteps (3K tokens)."""
    embed: int = 64
    """Token embedding size."""
    layers: int = 2
    """Transformer layers."""
    heads: int = 2
    """Attention heads."""
    epochs: int = 3
    """Passes over all K-step windows."""
    batch: int = 64
    """Windows per minibatch."""
    lr: float = 1e-3
    """AdamW learning rate."""
    target: str = "max"
    """Conditioning return: 'max' of the dataset returns or 'pNN' percentile."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        **OfflineConfig.LIMITS, **{k: AT_LEAST_ONE for k in ("context", "embed", "layers",
                                                            "heads")}}


class TinyDT(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, horizon: int, cfg: Config):
        super().__init__()
        e = cfg.embed
        self.embed_rtg, self.embed_obs = nn.Linear(1, e), nn.Linear(obs_dim, e)
        self.embed_act, self.embed_t = nn.Linear(act_dim, e), nn.Embedding(horizon + 1, e)
        self.norm = nn.LayerNorm(e)
        layer = nn.TransformerEncoderLayer(e, cfg.heads, 4 * e, dropout=0.0, batch_first=True)
        self.body = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.Linear(e, act_dim), nn.Tanh())
        k = 3 * cfg.context
        self.register_buffer("mask", torch.triu(torch.full((k, k), float("-inf")), 1))

    def forward(self, rtg, obs, act, t):  # (B, K, 1), (B, K, d), (B, K, a), (B, K)
        time_emb = self.embed_t(t)
        tokens = torch.stack([self.embed_rtg(rtg) + time_emb, self.embed_obs(obs) + time_emb,
                              self.embed_act(act) + time_emb], dim=2)
        b, k = obs.shape[:2]
        x = self.norm(tokens.reshape(b, 3 * k, -1))
        h = self.body(x, mask=self.mask[: 3 * k, : 3 * k], is_causal=True)
        return self.head(h.reshape(b, k, 3, -1)[:, :, 1])  # read actions at state tokens


def windows(episodes: list[dict], k: int) -> dict[str, np.ndarray]:
    """Every K-step window of every episode (episodes shorter than K are left-padded)."""
    out = {"rtg": [], "obs": [], "act": [], "t": []}
    for ep in episodes:
        T = len(ep["rewards"])
        rtg = returns_to_go(ep["rewards"])
        pad = max(0, k - T)
        o = np.concatenate([np.repeat(ep["observations"][:1], pad, 0), ep["observations"][:T]])
        a = np.concatenate([np.zeros((pad, ep["actions"].shape[1])), ep["actions"]])
        g = np.concatenate([np.repeat(rtg[:1], pad), rtg])
        t = np.concatenate([np.zeros(pad, int), np.arange(T)])
        for start_ in range(len(t) - k + 1):
            sl = slice(start_, start_ + k)
            out["rtg"].append(g[sl, None])
            out["obs"].append(o[sl])
            out["act"].append(a[sl])
            out["t"].append(t[sl])
    return {key: np.asarray(v) for key, v in out.items()}


def train(config: Config) -> dict:
    t0 = time.perf_counter()
    conditioning_target(np.zeros(1), config.target)  # a bad --target fails before any work
    if config.embed % config.heads:
        raise ValueError(f"--embed ({config.embed}) must be a multiple of --heads "
                         f"({config.heads})")
    with open_run(config) as run:
        rng, episodes = start(config)
        returns = episode_returns(episodes)
        prior = resumed_agent(run, (DT_KIND,))
        if prior is None:
            prior = _fit(config, run, rng, episodes)
        actor = actor_from_saved(*prior)
        meta = prior[0]
        result = write_result(run, config, evaluate_actor(config, actor), t0, meta["curves"],
                              target_return=meta["target"],
                              dataset_max_return=float(returns.max()))
    return result


def _fit(config: Config, run, rng: np.random.Generator, episodes: list[dict]
         ) -> tuple[dict, dict]:
    horizon = max(len(e["rewards"]) for e in episodes)
    if config.context < 1 or config.context > horizon:
        raise ValueError(f"context must be in [1, {horizon}], got {config.context}")
    w = windows(episodes, config.context)
    obs_scale = Standardizer(w["obs"].reshape(-1, w["obs"].shape[-1]))
    returns = episode_returns(episodes)
    rtg_scale = max(float(np.abs(returns).max()), 1.0)
    rtg, obs = tensor(w["rtg"]) / rtg_scale, obs_scale(tensor(w["obs"]))
    act, ts = tensor(w["act"]), torch.as_tensor(w["t"])
    model = TinyDT(obs.shape[-1], act.shape[-1], horizon, config)
    loss = fit(model.parameters(),
               lambda i: ((model(rtg[i], obs[i], act[i], ts[i]) - act[i]) ** 2).mean(),
               len(obs), config.epochs, config.batch, config.lr, rng, weight_decay=1e-4,
               desc="dt-lite", checkpoints=Checkpoints(run, "dt-lite", rng, model=model))
    for epoch, value in enumerate(loss):
        run.log(epoch=epoch, loss=value)
    meta = {"algo": "dt-lite", "obs_dim": int(obs.shape[-1]), "act_dim": int(act.shape[-1]),
            "horizon": horizon, "context": config.context, "embed": config.embed,
            "layers": config.layers, "heads": config.heads, "rtg_scale": rtg_scale,
            "target": conditioning_target(returns, config.target),
            "curves": {"train_loss": loss}}
    arrays = saved.module_arrays("model", model)
    arrays.update({"obs_scale.mean": obs_scale.mean.numpy(),
                   "obs_scale.std": obs_scale.std.numpy()})
    saved.save_agent(run.path, DT_KIND, meta, arrays)
    return meta, arrays


def actor_from_saved(meta: dict, arrays: dict):
    """The evaluation actor of a saved DT-lite (keeps its K-step context per episode)."""
    cfg = Config(context=int(meta["context"]), embed=int(meta["embed"]),
                 layers=int(meta["layers"]), heads=int(meta["heads"]))
    model = TinyDT(int(meta["obs_dim"]), int(meta["act_dim"]), int(meta["horizon"]), cfg)
    saved.load_module("model", model, arrays)
    obs_scale = Standardizer.from_arrays(arrays["obs_scale.mean"], arrays["obs_scale.std"])
    target, rtg_scale = float(meta["target"]), float(meta["rtg_scale"])
    act_dim = int(meta["act_dim"])
    history: dict[str, list] = {}

    @torch.no_grad()
    def actor(o, collected, t):
        if t == 0:
            history.update(rtg=[], obs=[], act=[])
        history["rtg"].append((target - collected)[:, None] / rtg_scale)
        history["obs"].append(o)
        history["act"].append(np.zeros((len(o), act_dim)))
        k = min(cfg.context, len(history["obs"]))
        g, s, a = (tensor(np.stack(history[key][-k:], 1)) for key in ("rtg", "obs", "act"))
        times = torch.arange(t - k + 1, t + 1).expand(len(o), k)
        out = model(g, obs_scale(s), a, times)[:, -1].numpy()
        history["act"][-1] = out
        return out

    return actor
