"""The online DQN loop the model-generalization agents share (after Young et al., 2023).

ER-DQN, model-DQN and perfect-model-DQN differ only in where the transitions of their
Q update come from; everything else is this one loop: softmax exploration on Q /
temperature, a replay buffer of real transitions, a target network copied every
`target_every` steps, `updates_per_step` Q updates per env step after `start_steps`, and
a greedy evaluation every `eval_every` steps (average reward per step over `eval_steps`
steps on continuing envs, the return of an episode capped at `eval_steps` on episodic
ones), on `eval_episodes` fresh copies of the env.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from tacsuite.agents.common.mlp import mlp
from tacsuite.agents.common.replay import ReplayBuffer
from tacsuite.common import atomic, plots
from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.progress import trange
from tacsuite.common.runs import RunDir
from tacsuite.common.seeding import set_seed


@dataclass
class OnlineDQNConfig:
    env: str = "tacsuite/PanFlute-v0"
    """Gymnasium id (Discrete actions, 1-D Box observations)."""
    env_kwargs: str = ""
    """Extra gym.make arguments as k=v,k2=v2 (Python literals)."""
    seed: int = 0
    """Seed of the networks, exploration, the env and the evaluations."""
    out: str = "runs/dqn"
    """Run folder (config.json, metrics.jsonl, result.json, eval_curve.npy, q.pt, PNG)."""
    steps: int = 10_000
    """Environment steps."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden sizes of Q (and of the model's trunk); the paper uses (200, 200, 200)."""
    activation: str = "elu"
    """Hidden activation: elu (paper), relu, silu or tanh."""
    lr: float = 2e-4
    """AdamW step size of Q."""
    temperature: float = 0.4
    """Softmax exploration temperature on Q (also the model rollouts' policy)."""
    gamma: float = 0.9
    """Discount."""
    target_every: int = 100
    """Env steps between copies of Q into the target network."""
    buffer: int = 100_000
    """Replay capacity (capped at `steps`)."""
    start_steps: int = 1000
    """Env steps of pure softmax exploration before the first update."""
    updates_per_step: int = 1
    """Q updates per env step (10 in the paper's low-data regime)."""
    eval_every: int = 500
    """Env steps between greedy evaluations."""
    eval_steps: int = 100
    """Steps per evaluation episode."""
    eval_episodes: int = 8
    """Env copies per evaluation (the paper uses 32)."""


def check_config(c: OnlineDQNConfig) -> None:
    positive = ("steps", "target_every", "buffer", "updates_per_step", "eval_every",
                "eval_steps", "eval_episodes")
    for name in positive:
        if int(getattr(c, name)) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(c, name)!r}")
    if c.start_steps < 0:
        raise ValueError(f"start_steps must be >= 0, got {c.start_steps!r}")
    if not c.lr > 0 or not c.temperature > 0:
        raise ValueError(f"lr and temperature must be > 0, got {c.lr!r}, {c.temperature!r}")
    if not 0 <= c.gamma < 1:
        raise ValueError(f"gamma must be in [0, 1), got {c.gamma!r}")
    if not c.hidden or any(int(h) < 1 for h in c.hidden):
        raise ValueError(f"hidden must be a non-empty tuple of positive sizes, got {c.hidden!r}")


def make_env(c: OnlineDQNConfig) -> gym.Env:
    kwargs = dict(c.env_kwargs) if isinstance(c.env_kwargs, dict) else parse_kwargs(c.env_kwargs)
    env = gym.make(c.env, **kwargs)
    if not isinstance(env.action_space, spaces.Discrete):
        raise ValueError(f"{c.env} has action space {env.action_space}; these agents need "
                         f"Discrete actions")
    if not (isinstance(env.observation_space, spaces.Box)
            and len(env.observation_space.shape) == 1):
        raise ValueError(f"{c.env} has observation space {env.observation_space}; these "
                         f"agents need 1-D Box observations")
    return env


def adamw(params, lr: float) -> torch.optim.Optimizer:
    """The paper's AdamW settings (betas 0.9/0.99, eps 1e-5, weight decay 1e-6)."""
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=1e-6)


def softmax_sample(q: torch.Tensor, temperature: float) -> torch.Tensor:
    """Actions drawn from softmax(q / temperature) row by row (Gumbel-max, torch RNG)."""
    u = torch.rand(q.shape).clamp_(1e-12, 1.0)
    return torch.argmax(q / temperature - torch.log(-torch.log(u)), dim=1)


class QLearner:
    """Q, its target copy and the weighted TD update every agent applies."""

    def __init__(self, obs_dim: int, n_actions: int, c: OnlineDQNConfig):
        self.q = mlp(obs_dim, n_actions, c.hidden, c.activation)
        self.target = copy.deepcopy(self.q).requires_grad_(False)
        self.opt = adamw(self.q.parameters(), c.lr)
        self.gamma = c.gamma

    def sync(self) -> None:
        self.target.load_state_dict(self.q.state_dict())

    def update(self, obs, actions, rewards, next_obs, continuation, weight) -> float:
        """One step on mean weight * (Q(s, a) - r - gamma * cont * max_a' Q_target(s', a'))^2.

        `continuation` is the probability that the episode goes on (1 - terminated on real
        data, the model's estimate on model data); `weight` the probability that the
        transition happens at all (the product of earlier continuations in a rollout).
        """
        with torch.no_grad():
            target = rewards + self.gamma * continuation * self.target(next_obs).max(1).values
        q_sa = self.q(obs).gather(1, actions[:, None]).squeeze(1)
        loss = (weight * (q_sa - target) ** 2).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())


# step(obs (B, d), actions (B,)) -> (next obs, reward, continuation probability)
StepFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def rollout_update(learner: QLearner, starts: np.ndarray, step: StepFn, horizon: int,
                   temperature: float) -> float:
    """Roll `step` for `horizon` steps from real `starts` under softmax(Q / temperature)
    and update Q once on all B * horizon generated transitions.

    Each transition is weighted by the probability that its rollout is still alive (the
    product of the earlier continuation probabilities), so nothing past a predicted
    termination teaches Q.
    """
    obs = torch.as_tensor(starts, dtype=torch.float32)
    alive = torch.ones(len(obs))
    parts: list[tuple[torch.Tensor, ...]] = []
    for _ in range(horizon):
        with torch.no_grad():
            actions = softmax_sample(learner.q(obs), temperature)
        nxt, reward, cont = step(obs, actions)
        parts.append((obs, actions, reward, nxt, cont, alive))
        alive = alive * cont
        obs = nxt
    batch = [torch.cat(x) for x in zip(*parts, strict=True)]
    return learner.update(*batch)


# update(learner, buffer, rng) -> named losses of one update
Updater = Callable[[QLearner, ReplayBuffer, np.random.Generator], dict[str, float]]
# warmup(buffer, rng) -> named losses: work done before start_steps that touches no Q
Warmup = Callable[[ReplayBuffer, np.random.Generator], dict[str, float]]


def evaluate(q: torch.nn.Module, c: OnlineDQNConfig, continuing: bool, seed: int) -> float:
    """Greedy score: mean reward per step (continuing) or capped episode return (episodic)."""
    envs = [make_env(c) for _ in range(c.eval_episodes)]
    obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(envs)])
    total = np.zeros(len(envs))
    alive = np.ones(len(envs), bool)
    for _ in range(c.eval_steps):
        with torch.no_grad():
            actions = q(torch.as_tensor(obs, dtype=torch.float32)).argmax(1).numpy()
        for i, e in enumerate(envs):
            if not alive[i]:
                continue
            obs[i], r, term, trunc, _ = e.step(int(actions[i]))
            total[i] += r
            if term or trunc:
                if continuing:  # a time limit on a continuing env: play on from a reset
                    obs[i] = e.reset()[0]
                else:
                    alive[i] = False
        if not alive.any():
            break
    for e in envs:
        e.close()
    return float(np.mean(total / c.eval_steps if continuing else total))


def run_online(c: OnlineDQNConfig, algorithm: str,
               make_updater: Callable[[gym.Env, int, int], tuple[Updater, Warmup | None]]
               ) -> dict:
    """Train one agent; write the run folder; return result.json's dict.

    `make_updater(env, obs_dim, n_actions)` builds the agent's Q update, called
    `updates_per_step` times per env step once `start_steps` have passed, and an optional
    warm-up called once per env step before then (model-DQN fits its model there).
    """
    check_config(c)
    t0 = time.perf_counter()
    rng = set_seed(c.seed)
    env = make_env(c)
    obs_dim, n_actions = int(env.observation_space.shape[0]), int(env.action_space.n)
    continuing = bool(getattr(env.unwrapped, "continuing", False))
    learner = QLearner(obs_dim, n_actions, c)  # first: the same seed, the same initial Q
    updater, warmup = make_updater(env, obs_dim, n_actions)  # for every agent
    buffer = ReplayBuffer(min(c.buffer, c.steps), obs_dim)
    run = RunDir(c.out, c)
    obs, _ = env.reset(seed=c.seed)
    eval_seed = 1_000_000 + 10_000 * c.seed
    steps, scores, window_rewards, window_returns = [], [], [], []
    episode_return, updates = 0.0, 0
    losses: dict[str, list[float]] = {}
    for t in trange(c.steps, desc=algorithm, unit="step"):
        with torch.no_grad():
            q = learner.q(torch.as_tensor(obs, dtype=torch.float32)[None])
        action = int(softmax_sample(q, c.temperature)[0])
        next_obs, reward, term, trunc, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, term)
        window_rewards.append(reward)
        episode_return += reward
        obs = next_obs
        if term or trunc:
            window_returns.append(episode_return)
            episode_return = 0.0
            obs, _ = env.reset()
        if t < c.start_steps and warmup is not None:
            for key, value in warmup(buffer, rng).items():
                losses.setdefault(key, []).append(value)
        if t >= c.start_steps:
            if (t - c.start_steps) % c.target_every == 0:
                learner.sync()
            for _ in range(c.updates_per_step):
                for key, value in updater(learner, buffer, rng).items():
                    losses.setdefault(key, []).append(value)
                updates += 1
        if (t + 1) % c.eval_every == 0 or t + 1 == c.steps:
            score = evaluate(learner.q, c, continuing, eval_seed + len(scores) * 100)
            steps.append(t + 1)
            scores.append(score)
            line = {"step": t + 1, "eval_score": score, "updates": updates,
                    "train_reward_rate": float(np.mean(window_rewards)),
                    "seconds": time.perf_counter() - t0}
            if window_returns:
                line["train_episode_return"] = float(np.mean(window_returns))
            line.update({k: float(np.mean(v[-c.eval_every:])) for k, v in losses.items()})
            run.log(**line)
            window_rewards, window_returns = [], []
    env.close()
    curve = np.array(scores)
    tail = max(1, len(curve) // 4)
    result = {
        "algorithm": algorithm, "env": c.env, "seed": c.seed, "steps": c.steps,
        "updates": updates,
        "metric": "reward_rate" if continuing else "return",
        "final_score": float(curve[-tail:].mean()),
        "last_score": float(curve[-1]),
        "mean_score": float(curve.mean()),
        "seconds": time.perf_counter() - t0,
        "eval_steps_at": steps, "eval_curve": curve.tolist(),
    }
    run.save_array("eval_curve", np.stack([np.array(steps, float), curve]))
    weights = io.BytesIO()
    torch.save(learner.q.state_dict(), weights)  # a state dict: loads with weights_only=True
    atomic.write_bytes(run.path / "q.pt", weights.getvalue())
    _plot_curve(run, steps, curve, result)
    run.write_result(result)
    return result


def _plot_curve(run: RunDir, steps, curve, result: dict) -> None:
    fig, axes = plots.figure(width=5.5)
    ax = axes[0, 0]
    ax.plot(steps, curve, "o-", ms=3, color=plots.PALETTE[0])
    ax.set_xlabel("env steps")
    ax.set_ylabel("greedy " + ("average reward" if result["metric"] == "reward_rate"
                                else "episode return"))
    ax.set_title(f"{result['algorithm']} on {result['env'].split('/')[-1]} "
                 f"(seed {result['seed']})")
    run.save_figure("learning_curve.png", fig)
    plots.close(fig)


def summary(result: dict) -> str:
    """The headline of an online DQN run for `tacsuite train`'s one-line summary."""
    what = "reward per step" if result["metric"] == "reward_rate" else "return"
    return (f"greedy {what} {result['final_score']:.3f} (last quarter of the evaluations) "
            f"after {result['steps']} steps, {result['updates']} updates")
