"""Perfect-model-DQN: model-DQN with the environment's own transition function as model.

The upper reference of Young et al. (2023): identical to `model_dqn` except that the
rollouts step `env.unwrapped.dynamics.step` (the batched transition function the
environment itself steps with; ProcMaze, ButtonGrid and PanFlute provide it), so the
model is exact and nothing about it is learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tacsuite.agents.common.online_dqn import OnlineDQNConfig, rollout_update, run_online, summary  # noqa: F401 (the CLI line)


@dataclass
class Config(OnlineDQNConfig):
    out: str = "runs/perfect-model-dqn"
    """Run folder (config.json, metrics.jsonl, result.json, eval_curve.npy, q.pt, PNG)."""
    model_batch: int = 32
    """Real start states per Q update (rollouts per update)."""
    rollout: int = 10
    """Env-model steps per rollout (Q learns from model_batch * rollout transitions)."""


def train(config: Config) -> dict:
    """Train online; write the run folder; return result.json's dict."""
    if config.model_batch < 1 or config.rollout < 1:
        raise ValueError(f"model_batch and rollout must be >= 1, got {config.model_batch!r}, "
                         f"{config.rollout!r}")

    def make_updater(env, obs_dim, n_actions):
        dynamics = getattr(env.unwrapped, "dynamics", None)
        if not callable(getattr(dynamics, "step", None)):
            raise ValueError(f"{config.env} exposes no batched `dynamics.step`; "
                             f"perfect-model-dqn needs one (ProcMaze, ButtonGrid, PanFlute)")
        model_rng = np.random.default_rng([config.seed, 7])

        def step(obs, actions):
            nxt, reward, term = dynamics.step(obs.numpy(), actions.numpy(), model_rng)
            return (torch.as_tensor(nxt, dtype=torch.float32),
                    torch.as_tensor(reward, dtype=torch.float32),
                    torch.as_tensor(1.0 - term, dtype=torch.float32))

        def update(learner, buffer, rng):
            starts = buffer.sample(config.model_batch, rng)["obs"]
            return {"q_loss": rollout_update(learner, starts, step, config.rollout,
                                             config.temperature)}

        return update, None

    return run_online(config, "perfect-model-dqn", make_updater)
