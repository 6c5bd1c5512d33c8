"""MBRCSL: trajectory stitching by model rollouts + return-conditioned supervised learning.

Zhou et al., "Free from Bellman Completeness: Trajectory Stitching via Model-based
Return-conditioned Supervised Learning" (ICLR 2024). No Bellman backup anywhere:

1. fit a probabilistic dynamics ensemble on all transitions (elites by holdout MSE);
2. fit a multimodal behaviour policy (mixture density network) by maximum likelihood;
3. roll the behaviour policy through the model for the full horizon from dataset start
   states, in batches (`behavior_temperature` > 1 widens its action noise, so rollouts
   also leave states where the data mostly holds still);
4. keep the rollouts whose model return beats the best dataset return (+ `margin`) until
   `keep` are kept or `max_rounds` batches are spent;
5. train RCSL on the kept rollouts and run it conditioned on their best return
   (`target="max"`, as the paper) or a percentile of them (`target="p50"`: less
   model-optimistic when the model's reward is biased near the goal).

If no rollout passes the filter the output is plain RCSL on the dataset (reported as
`kept_rollouts = 0`), so the method never does worse than its own baseline by construction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tacsuite.agents.common.ensemble import DynamicsEnsemble, EnsembleConfig
from tacsuite.agents.common.mdn import MixtureDensityPolicy
from tacsuite.agents.common.offline import (
    MLP_ACTOR,
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
from tacsuite.agents.rcsl import RCSLPolicy, conditioning_target
from tacsuite.common.progress import progress
from tacsuite.common.validate import AT_LEAST_ONE, Interval


@dataclass
class Config(OfflineConfig):
    out: str = "runs/mbrcsl"
    """Run folder (config.json, metrics.jsonl, result.json, rollouts_kept.npy)."""
    model_members: int = 5
    """Dynamics ensemble size."""
    model_elites: int = 3
    """Ensemble members sampled during rollouts."""
    model_hidden: tuple[int, ...] = (200, 200, 200)
    """Hidden sizes of each dynamics member."""
    model_epochs: int = 30
    """Dynamics training epochs."""
    behavior_components: int = 5
    """Mixture components of the behaviour policy."""
    behavior_hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of the behaviour policy."""
    behavior_epochs: int = 30
    """Behaviour policy training epochs."""
    behavior_temperature: float = 1.0
    """Scale of the behaviour policy's action noise during model rollouts. Values > 1 let
    rollouts leave a state where the data mostly holds still (Point Maze's midpoint: 3)."""
    rollout_batch: int = 500
    """Model rollouts per round."""
    keep: int = 200
    """Stop once this many rollouts passed the return filter."""
    max_rounds: int = 20
    """Upper bound on rollout rounds."""
    margin: float = 0.0
    """Keep a rollout when its model return > dataset max + margin."""
    rcsl_epochs: int = 40
    """Epochs of the output RCSL policy."""
    rcsl_hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of the output RCSL policy."""
    lr: float = 1e-3
    """Adam learning rate (behaviour and RCSL)."""
    batch: int = 256
    """Minibatch size."""
    target: str = "max"
    """Conditioning return: 'max' of the kept model returns (paper) or 'pNN' percentile."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        **OfflineConfig.LIMITS, **{k: AT_LEAST_ONE for k in (
            "model_members", "model_elites", "model_hidden", "model_epochs",
            "behavior_components", "behavior_hidden", "behavior_epochs", "rollout_batch",
            "keep", "max_rounds", "rcsl_epochs", "rcsl_hidden")}}


def model_rollouts(model: DynamicsEnsemble, behavior: MixtureDensityPolicy,
                   starts: np.ndarray, horizon: int, rng: np.random.Generator,
                   low: np.ndarray, high: np.ndarray, temperature: float = 1.0
                   ) -> dict[str, np.ndarray]:
    """Full-horizon rollouts of the behaviour policy inside the model (no terminals)."""
    n = len(starts)
    obs = np.empty((n, horizon + 1, starts.shape[1]), np.float32)
    act = np.empty((n, horizon, len(low)), np.float32)
    rew = np.empty((n, horizon), np.float32)
    obs[:, 0] = starts
    for t in range(horizon):
        act[:, t] = behavior.sample(obs[:, t], rng, low, high, temperature)
        obs[:, t + 1], rew[:, t] = model.step(obs[:, t], act[:, t], rng)
    return {"observations": obs, "actions": act, "rewards": rew}


def train(config: Config) -> dict:
    t0 = time.perf_counter()
    conditioning_target(np.zeros(1), config.target)  # a bad --target fails before any work
    if not config.behavior_temperature > 0:
        raise ValueError(f"--behavior-temperature must be > 0, got {config.behavior_temperature}")
    with open_run(config) as run:
        rng, episodes = start(config)
        prior = resumed_agent(run, (MLP_ACTOR,))
        if prior is None:
            # A resumed run recomputes stages 1-4 from the seed (the same draws, so the
            # same model and rollouts) and continues stage 5 from its checkpoint; their
            # metric lines are logged again, so the earlier ones go.
            if run.resumed:
                run.keep_metrics(lambda rec: False)
            prior = _fit(config, run, rng, episodes)
        actor, _, _ = mlp_actor_from_saved(*prior)
        meta = prior[0]
        tick = time.perf_counter()
        ev = evaluate_actor(config, actor, record=True)
        stage = dict(meta["stage_seconds"], eval=time.perf_counter() - tick)
        run.save_array("eval_paths", ev["paths"])
        result = write_result(run, config, ev, t0, meta["curves"], stage_seconds=stage,
                              target_return=meta["target"], **meta["summary"])
    return result


def _fit(config: Config, run, rng: np.random.Generator, episodes: list[dict]
         ) -> tuple[dict, dict]:
    """Stages 1-5 of the module docstring; saves and returns the output RCSL actor."""
    stage: dict[str, float] = {}
    obs = np.concatenate([e["observations"][:-1] for e in episodes])
    nxt = np.concatenate([e["observations"][1:] for e in episodes])
    act = np.concatenate([e["actions"] for e in episodes])
    rew = np.concatenate([e["rewards"] for e in episodes])

    tick = time.perf_counter()
    model = DynamicsEnsemble(obs.shape[1], act.shape[1], EnsembleConfig(
        members=config.model_members, elites=config.model_elites,
        hidden=tuple(config.model_hidden), epochs=config.model_epochs, batch=config.batch))
    model_curve = model.fit(obs, act, nxt, rew, rng)
    stage["dynamics"] = time.perf_counter() - tick
    run.log(stage="dynamics", holdout_mse=model_curve[-1], elites=model.elite_ids.tolist())

    tick = time.perf_counter()
    behavior = MixtureDensityPolicy(obs.shape[1], act.shape[1], config.behavior_components,
                                    config.behavior_hidden)
    behavior_curve = behavior.fit(obs, act, rng, config.behavior_epochs, config.batch,
                                  config.lr)
    stage["behavior"] = time.perf_counter() - tick
    run.log(stage="behavior", nll=behavior_curve[-1])

    tick = time.perf_counter()
    data_returns = episode_returns(episodes)
    threshold = float(data_returns.max()) + config.margin
    starts = np.stack([e["observations"][0] for e in episodes])
    horizon = max(len(e["rewards"]) for e in episodes)
    low, high = act.min(0), act.max(0)
    kept: list[dict] = []
    rounds, generated, model_returns = 0, 0, []
    bar = progress(total=config.max_rounds, desc="rollouts", unit="round")
    while len(kept) < config.keep and rounds < config.max_rounds:
        s0 = starts[rng.integers(0, len(starts), config.rollout_batch)]
        roll = model_rollouts(model, behavior, s0, horizon, rng, low, high,
                              config.behavior_temperature)
        ret = roll["rewards"].sum(1)
        model_returns.append(ret)
        for i in np.flatnonzero(ret > threshold)[: config.keep - len(kept)]:
            kept.append({k: v[i] for k, v in roll.items()})
        rounds += 1
        generated += len(s0)
        bar.update(1)
        bar.set_postfix(kept=len(kept))
        run.log(stage="rollouts", round=rounds, kept=len(kept), best=float(ret.max()))
    bar.close()
    stage["rollouts"] = time.perf_counter() - tick

    tick = time.perf_counter()
    policy = RCSLPolicy(obs.shape[1], act.shape[1], config.rcsl_hidden)
    train_on = kept if kept else episodes
    rcsl_curve = policy.fit(train_on, rng, config.rcsl_epochs, config.lr, config.batch,
                            run=run, stage="mbrcsl-rcsl")
    target = conditioning_target(episode_returns(train_on), config.target)
    stage["rcsl"] = time.perf_counter() - tick
    if kept:
        run.save_array("rollouts_kept", np.stack([k["observations"] for k in kept]))
    all_model = np.concatenate(model_returns)
    summary = dict(dataset_max_return=float(data_returns.max()), kept_rollouts=len(kept),
                   generated_rollouts=generated, rollout_rounds=rounds,
                   model_return_mean=float(all_model.mean()),
                   model_return_max=float(all_model.max()), elites=model.elite_ids.tolist())
    curves = {"dynamics_holdout_mse": model_curve, "behavior_nll": behavior_curve,
              "rcsl_loss": rcsl_curve}
    return save_mlp_actor(run, "mbrcsl", policy.net, policy.scale, config.rcsl_hidden, curves,
                          target=target, stage_seconds=stage, summary=summary)
