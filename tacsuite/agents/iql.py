"""IQL: implicit Q-learning (Kostrikov et al., 2022), the Bellman-based offline baseline.

Expectile regression of V on twin target Qs, one-step TD for Q with V as the bootstrap,
and advantage-weighted regression for a deterministic policy. Time-limit truncations are
not terminals: the bootstrap continues through them.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from tacsuite.agents.common.mlp import Standardizer, mlp, tensor
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
from tacsuite.agents.common.trajectories import episode_returns
from tacsuite.common.progress import progress
from tacsuite.common.validate import AT_LEAST_ONE, NON_NEGATIVE, OPEN_UNIT, UNIT, Interval
from tacsuite.envs.datasets import to_d4rl


@dataclass
class Config(OfflineConfig):
    out: str = "runs/iql"
    steps: int = 5_000
    """Gradient steps."""
    batch: int = 256
    """Minibatch size."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden sizes of Q, V and the policy."""
    lr: float = 3e-4
    """Adam learning rate."""
    gamma: float = 0.95
    """Discount (0.95 suits the 40-step GridStitch horizon; 0.99 needs ~3x more steps)."""
    expectile: float = 0.7
    """Expectile of V's regression on Q (0.5 = SARSA-like, -> 1 = max)."""
    beta: float = 3.0
    """Inverse temperature of the advantage weights."""
    tau: float = 0.005
    """Polyak rate of the target Q networks."""
    log_every: int = 500
    """Steps between metric lines."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        **OfflineConfig.LIMITS, "steps": AT_LEAST_ONE, "log_every": AT_LEAST_ONE,
        "gamma": UNIT, "expectile": OPEN_UNIT, "beta": NON_NEGATIVE,
        "tau": Interval(0.0, 1.0, lo_open=True)}


def train(config: Config) -> dict:
    t0 = time.perf_counter()
    with open_run(config) as run:
        rng, episodes = start(config)
        prior = resumed_agent(run, (MLP_ACTOR,))
        if prior is None:
            prior = _fit(config, run, rng, episodes)
        actor, _, _ = mlp_actor_from_saved(*prior)
        result = write_result(run, config, evaluate_actor(config, actor), t0,
                              prior[0]["curves"],
                              dataset_max_return=float(episode_returns(episodes).max()))
    return result


def _fit(config: Config, run, rng: np.random.Generator, episodes: list[dict]
         ) -> tuple[dict, dict]:
    d = to_d4rl(episodes)
    scale = Standardizer(d["observations"])
    s, s2 = scale(tensor(d["observations"])), scale(tensor(d["next_observations"]))
    a, r = tensor(d["actions"]), tensor(d["rewards"])
    done = tensor(d["terminals"].astype(np.float32))
    ds, da = s.shape[1], a.shape[1]
    qs = [mlp(ds + da, 1, config.hidden) for _ in range(2)]
    q_targets = [copy.deepcopy(q).requires_grad_(False) for q in qs]
    v, pi = mlp(ds, 1, config.hidden), mlp(ds, da, config.hidden, out_activation=torch.nn.Tanh())
    opt_q = torch.optim.Adam([p for q in qs for p in q.parameters()], lr=config.lr)
    opt_v = torch.optim.Adam(v.parameters(), lr=config.lr)
    opt_pi = torch.optim.Adam(pi.parameters(), lr=config.lr)
    curves: dict[str, list[float]] = {"q_loss": [], "v_loss": [], "pi_loss": []}
    ckpt = Checkpoints(run, "iql", rng, metric="step", v=v, pi=pi, q0=qs[0], q1=qs[1],
                       q0_target=q_targets[0], q1_target=q_targets[1])
    first, state = ckpt.begin(config.steps, q=opt_q, v=opt_v, pi=opt_pi)
    curves.update(state.get("curves", {}))
    acc = np.array(state.get("acc", [0.0, 0.0, 0.0]), dtype=np.float64)
    for step in progress(range(first + 1, config.steps + 1), total=config.steps - first,
                         desc="iql", unit="step"):
        i = torch.as_tensor(rng.integers(0, len(s), config.batch))
        sa = torch.cat([s[i], a[i]], 1)
        with torch.no_grad():
            q_t = torch.min(*(qt(sa) for qt in q_targets)).squeeze(1)
        diff = q_t - v(s[i]).squeeze(1)
        weight = torch.abs(config.expectile - (diff < 0).float())
        v_loss = (weight * diff**2).mean()
        opt_v.zero_grad(set_to_none=True)
        v_loss.backward()
        opt_v.step()
        with torch.no_grad():
            target = r[i] + config.gamma * (1 - done[i]) * v(s2[i]).squeeze(1)
            adv = q_t - v(s[i]).squeeze(1)
            w = torch.clamp(torch.exp(config.beta * adv), max=100.0)
        q_loss = sum(((q(sa).squeeze(1) - target) ** 2).mean() for q in qs)
        opt_q.zero_grad(set_to_none=True)
        q_loss.backward()
        opt_q.step()
        pi_loss = (w * ((pi(s[i]) - a[i]) ** 2).sum(1)).mean()
        opt_pi.zero_grad(set_to_none=True)
        pi_loss.backward()
        opt_pi.step()
        with torch.no_grad():
            for q, qt in zip(qs, q_targets, strict=True):
                for p, pt in zip(q.parameters(), qt.parameters(), strict=True):
                    pt.lerp_(p, config.tau)
        acc += [float(q_loss.detach()), float(v_loss.detach()), float(pi_loss.detach())]
        if step % config.log_every == 0 or step == config.steps:
            n = config.log_every if step % config.log_every == 0 else step % config.log_every
            for key, value in zip(curves, acc / n, strict=True):
                curves[key].append(float(value))
            run.log(step=step, q_loss=curves["q_loss"][-1], v_loss=curves["v_loss"][-1],
                    pi_loss=curves["pi_loss"][-1])
            acc[:] = 0
        ckpt.reached(step, {"curves": curves, "acc": acc.tolist()})

    return save_mlp_actor(run, "iql", pi, scale, config.hidden, curves, tanh=True)
