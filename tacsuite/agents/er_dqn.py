"""ER-DQN: DQN on uniformly replayed real transitions, the baseline of Young et al. (2023).

Every update fits Q on `batch` transitions drawn from the replay buffer. The default
`batch` of 320 matches the 32 x 10 model transitions the model-based agents learn from
per update, so at equal updates both spend the same Q compute (the paper's compute
matching).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tacsuite.agents.common.online_dqn import OnlineDQNConfig, run_online, summary  # noqa: F401 (the CLI line)


@dataclass
class Config(OnlineDQNConfig):
    out: str = "runs/er-dqn"
    """Run folder (config.json, metrics.jsonl, result.json, eval_curve.npy, q.pt, PNG)."""
    batch: int = 320
    """Replayed transitions per Q update."""


def train(config: Config) -> dict:
    """Train online; write the run folder; return result.json's dict."""
    if config.batch < 1:
        raise ValueError(f"batch must be >= 1, got {config.batch!r}")

    def make_updater(env, obs_dim, n_actions):
        def update(learner, buffer, rng):
            b = {k: torch.as_tensor(v) for k, v in buffer.sample(config.batch, rng).items()}
            cont = 1.0 - b["terminated"]
            loss = learner.update(b["obs"], b["actions"], b["rewards"], b["next_obs"], cont,
                                  torch.ones_like(cont))
            return {"q_loss": loss}

        return update, None

    return run_online(config, "er-dqn", make_updater)
