"""Model-DQN: Q learned only from transitions of a learned one-step model.

The "simple model" agent of Young et al., "The Benefits of Model-Based Generalization in
Reinforcement Learning" (ICML 2023). Each update:

1. fit the model (per-bit Bernoulli next observation, Gaussian reward, Bernoulli
   termination; `agents.common.bit_model`) one AdamW step on `model_batch` real
   transitions from the replay buffer;
2. from those same real observations, roll the updated model `rollout` steps under the
   softmax policy on Q, taking each next bit's most likely value (`next_obs="mode"`, what
   the authors' code effectively does) or sampling it (`next_obs="sample"`);
3. update Q once on the `model_batch * rollout` model transitions, weighted by the
   model's probability that each rollout is still alive. Q never sees a real transition.

In factored environments the model generalises across the combinatorial state space
(each bit's next value depends on few others), so its transitions constrain Q where
replayed data cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tacsuite.agents.common.bit_model import NEXT_OBS_MODES, BitModel
from tacsuite.agents.common.online_dqn import (  # noqa: F401 (the CLI line)
    OnlineDQNConfig,
    adamw,
    rollout_update,
    run_online,
    summary,
)


@dataclass
class Config(OnlineDQNConfig):
    out: str = "runs/model-dqn"
    """Run folder (config.json, metrics.jsonl, result.json, eval_curve.npy, q.pt, PNG)."""
    model_batch: int = 32
    """Real transitions per model update; also the number of rollouts per Q update."""
    rollout: int = 10
    """Model steps per rollout (Q learns from model_batch * rollout transitions)."""
    model_lr: float = 1e-3
    """AdamW step size of the model (the paper uses Q's step size; a faster model pays off
    at CPU-sized budgets)."""
    model_hidden: tuple[int, ...] = ()
    """Hidden sizes of the model trunk; empty = the same as Q's `hidden`."""
    next_obs: str = "mode"
    """Rollout next observations: each bit's 'mode' (most likely value), or 'sample' every
    bit from its Bernoulli. The authors' code passes the logit where a probability is
    expected (bit = 1 with probability clip(logit, 0, 1)), so its rollouts are nearly the
    mode; independent draws combine into observations no env produces."""
    model_warmup: bool = True
    """Fit the model on real data from the first env step (Q still waits for start_steps),
    so the first Q updates learn from a trained model rather than a random one."""


def train(config: Config) -> dict:
    """Train online; write the run folder; return result.json's dict."""
    if config.next_obs not in NEXT_OBS_MODES:
        raise ValueError(f"next_obs must be one of {NEXT_OBS_MODES}, got {config.next_obs!r}")
    if config.model_batch < 1 or config.rollout < 1 or not config.model_lr > 0:
        raise ValueError(f"model_batch and rollout must be >= 1 and model_lr > 0, got "
                         f"{config.model_batch!r}, {config.rollout!r}, {config.model_lr!r}")

    def make_updater(env, obs_dim, n_actions):
        model = BitModel(obs_dim, n_actions, config.model_hidden or config.hidden,
                         config.activation)
        opt = adamw(model.parameters(), config.model_lr)

        def step(obs, actions):
            return model.sample(obs, actions, config.next_obs)

        def fit_model(buffer, rng):
            b = {k: torch.as_tensor(v) for k, v in buffer.sample(config.model_batch, rng).items()}
            parts = model.loss(b["obs"], b["actions"], b["rewards"], b["next_obs"],
                               b["terminated"])
            opt.zero_grad(set_to_none=True)
            parts["total"].backward()
            opt.step()
            return b["obs"].numpy(), {f"model_{k}": float(v.detach()) for k, v in parts.items()}

        def update(learner, buffer, rng):
            starts, losses = fit_model(buffer, rng)
            q_loss = rollout_update(learner, starts, step, config.rollout, config.temperature)
            return {"q_loss": q_loss, **losses}

        return update, ((lambda buffer, rng: fit_model(buffer, rng)[1])
                        if config.model_warmup else None)

    return run_online(config, "model-dqn", make_updater)
