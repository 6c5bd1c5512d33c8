"""MBPO with SAC and a pluggable model loss: MLE, MSE or VaGraM (Voelcker et al., ICLR 2022).

Model-based policy optimisation (Janner et al., 2019) trains SAC mostly on short rollouts
of a learned dynamics ensemble branched from real states. Every `model_every` env steps
the ensemble (`agents/common/ensemble.py`, `members` MLPs of `model_layers` x
`model_width`, the `elites` with the best holdout score sampled per row) is refitted on
all real data with `loss` (`agents/model_losses.py`); then `rollouts_per_step *
model_every` rollouts of the current length (`rollout_schedule`: linear from `min_len` at
step `start` to `max_len` at step `end`) go into a model buffer holding the last
`model_retain` refits. Each SAC update draws a `real_ratio` share of its batch from the
real buffer and the rest from the model buffer.

VaGraM weights each next-state dimension's squared error by the squared gradient of
Q(s', mu(s')) at the observed s', averaged over SAC's two critics and their two target
copies, computed once per refit (detached) against the critic of that moment. While the
critic is young (refits before `mse_warmup` steps) the MSE is added. MSE and VaGraM fit
raw (unstandardized) targets, as the authors' code does: there a dimension's weight is its
scale, which is what lets large distractors crowd out the state under MSE; MLE fits
standardized targets (its likelihood is scale-free up to the variance bounds).

SAC is Stable-Baselines3's: its actor and critics give the actions, the value gradients
and the updates (`SAC.train`), with its replay buffer replaced by the mixed real/model
sampler. No measurement gave a reason to write our own: SAC's updates dominate the run
time (scripts/bench_vagram.py), and they are the same network work in any SAC. `sac` (the
`loss="none"` preset) is the same loop with no model: model-free SAC with
`updates_per_step` updates per env step.

Model transitions never terminate (right for Pendulum, which never does; an env whose
episodes end would need its termination rule in the rollouts). Checkpoints (every
`checkpoint_every` steps, at an episode end; all weights, optimizer moments, buffers and
RNGs) make `--resume` continue a killed run where it was, with the same numbers.
"""

from __future__ import annotations

import time
import types
from dataclasses import dataclass
from typing import ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from tacsuite.agents import model_losses
from tacsuite.agents.common import saved
from tacsuite.agents.common.ensemble import DynamicsEnsemble, EnsembleConfig
from tacsuite.agents.common.mlp import Standardizer
from tacsuite.agents.common.offline import (
    _load_optimizer,
    _optimizer_arrays,
    _rng_state,
    _set_rng_state,
)
from tacsuite.common import plots
from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.progress import progress
from tacsuite.common.runs import RunDir, check_out
from tacsuite.common.seeding import set_seed
from tacsuite.common.threads import configure_torch_threads
from tacsuite.common.validate import (
    AT_LEAST_ONE,
    NON_NEGATIVE,
    POSITIVE,
    UNIT,
    Interval,
    check_env_kwargs,
    check_numbers,
)

CHECKPOINT = "mbpo-checkpoint"


@dataclass
class Config:
    env: str = "tacsuite/PendulumDistractor-v0"
    """Gymnasium id (1-D Box observations and actions)."""
    env_kwargs: str = ""
    """Extra gym.make arguments as k=v,k2=v2 (PendulumDistractor-v0 carries 10 distractors
    unless given distractors=N)."""
    seed: int = 0
    """Seed of the networks, the rollouts, the env and the evaluations."""
    out: str = "runs/mbpo"
    """Run folder (config.json, metrics.jsonl, result.json, checkpoint, learning_curve.png)."""
    steps: int = 5000
    """Environment steps."""
    loss: str = "vagram"
    """Model loss: vagram, mle, mse, or none (model-free SAC)."""
    model_width: int = 200
    """Hidden width of each ensemble member."""
    model_layers: int = 4
    """Hidden layers of each ensemble member."""
    members: int = 7
    """Ensemble size."""
    elites: int = 5
    """Members used in rollouts (best holdout score)."""
    model_epochs: int = 30
    """Most epochs per refit."""
    model_patience: int = 3
    """Stop a refit after this many epochs without a member improving on the holdout."""
    model_lr: float = 1e-3
    """AdamW step size of the model."""
    model_every: int = 250
    """Env steps between model refits (and rollout batches)."""
    start_steps: int = 1000
    """Env steps of uniform random actions before the first refit and SAC update."""
    rollouts_per_step: int = 100
    """Model rollouts started per env step (all at once, at each refit)."""
    rollout_schedule: tuple[int, int, int, int] = (1000, 4000, 1, 3)
    """(start, end, min_len, max_len): rollout length linear in env steps."""
    model_retain: int = 2
    """Refits' worth of model rollouts the model buffer keeps."""
    real_ratio: float = 0.1
    """Share of each SAC batch drawn from real transitions."""
    mse_warmup: int = 1500
    """VaGraM adds the MSE at refits before this env step (the critic is young)."""
    updates_per_step: int = 5
    """SAC updates per env step once start_steps have passed."""
    sac_hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of SAC's actor and critics."""
    sac_lr: float = 3e-4
    """Adam step size of SAC."""
    batch: int = 256
    """SAC batch size."""
    gamma: float = 0.99
    """Discount."""
    eval_every: int = 500
    """Env steps between evaluations for the learning curve."""
    curve_episodes: int = 5
    """Deterministic-policy episodes per learning-curve point."""
    eval_episodes: int = 10
    """Deterministic-policy episodes of the final evaluation (eval_return)."""
    checkpoint_every: int = 1000
    """Env steps between checkpoints (taken at the next episode end)."""
    overwrite: bool = False
    """Clear --out first when it holds an earlier run."""
    resume: bool = False
    """Continue the run in --out from its last checkpoint."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        "seed": NON_NEGATIVE, "steps": AT_LEAST_ONE, "model_width": AT_LEAST_ONE,
        "model_layers": AT_LEAST_ONE, "members": AT_LEAST_ONE, "elites": AT_LEAST_ONE,
        "model_epochs": AT_LEAST_ONE, "model_patience": AT_LEAST_ONE, "model_lr": POSITIVE,
        "model_every": AT_LEAST_ONE, "start_steps": NON_NEGATIVE,
        "rollouts_per_step": AT_LEAST_ONE, "rollout_schedule": NON_NEGATIVE,
        "model_retain": AT_LEAST_ONE, "real_ratio": UNIT, "mse_warmup": NON_NEGATIVE,
        "updates_per_step": NON_NEGATIVE, "sac_hidden": AT_LEAST_ONE, "sac_lr": POSITIVE,
        "batch": AT_LEAST_ONE, "gamma": Interval(0.0, 1.0, hi_open=True),
        "eval_every": AT_LEAST_ONE, "curve_episodes": AT_LEAST_ONE,
        "eval_episodes": AT_LEAST_ONE, "checkpoint_every": AT_LEAST_ONE}


def check(c: Config) -> dict:
    """Everything checkable before work starts; returns the env kwargs."""
    check_numbers(c)
    if c.loss not in (*model_losses.LOSSES, "none"):
        raise ValueError(f"loss must be one of {[*sorted(model_losses.LOSSES), 'none']}, "
                         f"got {c.loss!r}")
    if c.elites > c.members:
        raise ValueError(f"elites must be <= members={c.members}, got {c.elites}")
    start, end, lo, hi = c.rollout_schedule
    if not (end >= start and 1 <= lo <= hi):
        raise ValueError(f"rollout_schedule must be (start, end, min_len, max_len) with "
                         f"end >= start and 1 <= min_len <= max_len, got {c.rollout_schedule}")
    kwargs = dict(c.env_kwargs) if isinstance(c.env_kwargs, dict) else \
        parse_kwargs(c.env_kwargs)
    check_env_kwargs(c.env, kwargs)
    check_out(c.out)
    return kwargs


def rollout_length(c: Config, step: int) -> int:
    start, end, lo, hi = c.rollout_schedule
    frac = 1.0 if end == start else float(np.clip((step - start) / (end - start), 0.0, 1.0))
    return int(round(lo + frac * (hi - lo)))


class Buffer:
    """A ring buffer of (obs, action, reward, next_obs, done) float32 arrays."""

    def __init__(self, capacity: int, obs_dim: int, act_dim: int):
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity, obs_dim), np.float32)
        self.act = np.zeros((self.capacity, act_dim), np.float32)
        self.rew = np.zeros(self.capacity, np.float32)
        self.next = np.zeros((self.capacity, obs_dim), np.float32)
        self.done = np.zeros(self.capacity, np.float32)
        self.pos = self.size = 0
        self._names = ("obs", "act", "rew", "next", "done")

    def add(self, obs, act, rew, nxt, done) -> None:
        n = len(obs)
        idx = (self.pos + np.arange(n)) % self.capacity
        for name, value in zip(self._names, (obs, act, rew, nxt, done), strict=True):
            getattr(self, name)[idx] = value
        self.pos = int((self.pos + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)[: self.size]

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.{k}": self.view(k) for k in self._names}

    def load(self, prefix: str, arrays: dict, pos: int) -> None:
        for k in self._names:
            value = arrays[f"{prefix}.{k}"]
            getattr(self, k)[: len(value)] = value
            self.size = len(value)
        self.pos = int(pos)


class MixedSampler:
    """SAC's replay buffer: a `real_ratio` share of each batch from real transitions, the
    rest from model rollouts (all real while there are none)."""

    def __init__(self, real: Buffer, model: Buffer, real_ratio: float,
                 rng: np.random.Generator):
        self.real, self.model, self.real_ratio, self.rng = real, model, real_ratio, rng

    def sample(self, batch_size: int, env=None):
        from stable_baselines3.common.type_aliases import ReplayBufferSamples

        n_model = 0 if self.model.size == 0 else batch_size - int(round(
            self.real_ratio * batch_size))
        parts = []
        for buf, n in ((self.real, batch_size - n_model), (self.model, n_model)):
            if n:
                idx = self.rng.integers(0, buf.size, n)
                parts.append([buf.obs[idx], buf.act[idx], buf.next[idx],
                              buf.done[idx, None], buf.rew[idx, None]])
        cols = [torch.as_tensor(np.concatenate(col)) for col in zip(*parts, strict=True)]
        return ReplayBufferSamples(*cols)


def make_sac(c: Config, env: gym.Env):
    from stable_baselines3 import SAC
    from stable_baselines3.common.logger import configure

    sac = SAC("MlpPolicy", env, learning_rate=c.sac_lr, buffer_size=1, batch_size=c.batch,
              gamma=c.gamma, policy_kwargs={"net_arch": list(c.sac_hidden)}, seed=c.seed,
              device="cpu", verbose=0)
    sac.set_logger(configure(None, []))
    return sac


def critics_of(sac) -> list:
    """SAC's two critics and their target copies as (obs, action) -> Q."""
    nets = [*sac.critic.q_networks, *sac.critic_target.q_networks]
    return [(lambda s, a, net=net: net(torch.cat([s, a], dim=1))) for net in nets]


def mean_actor(sac):
    return lambda s: sac.actor(s, deterministic=True)


def evaluate(sac, c: Config, kwargs: dict, episodes: int, seed: int) -> list[float]:
    """Returns of the deterministic policy, one fresh seeded episode each."""
    env = gym.make(c.env, **kwargs)
    out = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                a = sac.actor(torch.as_tensor(obs[None]), deterministic=True).numpy()[0]
            obs, r, term, trunc, _ = env.step(to_env(a, env.action_space))
            total += float(r)
            done = term or trunc
        out.append(total)
    env.close()
    return out


def to_env(a: np.ndarray, space: spaces.Box) -> np.ndarray:
    """SAC's squashed action in [-1, 1] to the env's Box."""
    low, high = space.low.astype(np.float32), space.high.astype(np.float32)
    return (low + (np.clip(a, -1.0, 1.0) + 1.0) * 0.5 * (high - low)).astype(space.dtype)


def _model_errors(model: DynamicsEnsemble, buf: Buffer, idx: np.ndarray, true_dims: int,
                  weights: np.ndarray | None) -> dict:
    """Errors of the elites' mean prediction on transitions the model has not seen."""
    obs, act, nxt = buf.obs[idx], buf.act[idx], buf.next[idx]
    mean, _ = model.predict(obs, act)
    pred = obs + mean[model.elite_ids, :, :-1].mean(0)
    sq = (pred - nxt) ** 2
    out = {"err_true": float(sq[:, :true_dims].mean()),
           "err_reward": float(((mean[model.elite_ids, :, -1].mean(0) - buf.rew[idx]) ** 2)
                               .mean())}
    if sq.shape[1] > true_dims:
        out["err_distractor"] = float(sq[:, true_dims:].mean())
    if weights is not None:
        out["err_value_weighted"] = float((weights * sq).sum(1).mean())
    return out


def _true_dims(env: gym.Env) -> int:
    n = int(env.observation_space.shape[0])
    for who in (env, env.unwrapped):
        if hasattr(who, "true_dims"):
            return int(who.true_dims)
    try:
        return int(env.get_wrapper_attr("true_dims"))
    except AttributeError:
        return n


def train(c: Config) -> dict:
    """Train one agent, write its run folder, return result.json's dict."""
    configure_torch_threads()
    kwargs = check(c)
    run = RunDir(c.out, c, resumable=True)
    try:
        if run.resumed:
            run.check_resume(changeable=("eval_episodes",))
        return _train(c, run, kwargs)
    finally:
        run.close()


def _train(c: Config, run: RunDir, kwargs: dict) -> dict:
    t_start = time.perf_counter()
    rng = set_seed(c.seed)
    env = gym.make(c.env, **kwargs)
    for what in ("observation_space", "action_space"):
        space = getattr(env, what)
        if not (isinstance(space, spaces.Box) and len(space.shape) == 1):
            raise ValueError(f"MBPO needs 1-D Box {what}; {c.env} has {space}")
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    true_dims = _true_dims(env)
    low = np.where(np.isfinite(env.observation_space.low), env.observation_space.low, -np.inf)
    high = np.where(np.isfinite(env.observation_space.high), env.observation_space.high, np.inf)
    sac = make_sac(c, env)
    use_model = c.loss != "none"
    model = DynamicsEnsemble(obs_dim, act_dim, EnsembleConfig(
        members=c.members, elites=c.elites, hidden=(c.model_width,) * c.model_layers,
        epochs=c.model_epochs, batch=256, lr=c.model_lr, holdout=0.1,
        standardize_targets=c.loss == "mle")) if use_model else None
    real = Buffer(c.steps, obs_dim, act_dim)
    max_len = c.rollout_schedule[3]
    model_buf = Buffer(c.model_retain * c.rollouts_per_step * c.model_every * max_len
                       if use_model else 1, obs_dim, act_dim)
    sac.replay_buffer = MixedSampler(real, model_buf, c.real_ratio if use_model else 1.0, rng)
    eval_seed = 1_000_000 + 10_000 * c.seed
    state = {"t": 0, "episode": 0, "curve": [], "times": {}, "updates": 0, "refits": 0,
             "last_checkpoint": 0, "fitted": False, "last_refit": 0, "episode_returns": []}
    if run.resumed and saved.has_agent(run.path, "checkpoint"):
        state = _restore(run, sac, model, real, model_buf, rng)
        run.keep_metrics(lambda rec: rec.get("step", 0) <= state["t"])
    elif run.resumed:  # killed before its first checkpoint: it starts again
        run.keep_metrics(lambda rec: False)
    times = state["times"]
    elapsed = state.get("elapsed", 0.0) - t_start  # + perf_counter(): seconds over all runs

    def timed(key, t0):
        times[key] = times.get(key, 0.0) + time.perf_counter() - t0

    obs, _ = env.reset(seed=c.seed * 100_003 + state["episode"])
    episode_return = 0.0
    for t in progress(range(state["t"], c.steps), total=c.steps - state["t"],
                      desc=f"mbpo-{c.loss}", unit="step"):
        t0 = time.perf_counter()
        if t < c.start_steps:
            a = rng.uniform(-1.0, 1.0, act_dim).astype(np.float32)
        else:
            with torch.no_grad():
                a = sac.actor(torch.as_tensor(obs[None])).numpy()[0]
        nxt, r, term, trunc, _ = env.step(to_env(a, env.action_space))
        real.add(obs[None], a[None], [r], nxt[None], [float(term)])
        episode_return += float(r)
        obs = nxt
        ended = term or trunc
        if ended:
            state["episode"] += 1
            state["episode_returns"].append(episode_return)
            obs, _ = env.reset(seed=c.seed * 100_003 + state["episode"])
            episode_return = 0.0
        timed("env", t0)
        done = t + 1
        if use_model and done >= c.start_steps and (done - c.start_steps) % c.model_every == 0:
            _refit_and_roll(c, run, sac, model, real, model_buf, rng, state, done, true_dims,
                            low, high, timed)
        if done > c.start_steps and c.updates_per_step:
            t0 = time.perf_counter()
            sac.train(gradient_steps=c.updates_per_step, batch_size=c.batch)
            state["updates"] += c.updates_per_step
            timed("sac_updates", t0)
        if done % c.eval_every == 0 or done == c.steps:
            t0 = time.perf_counter()
            returns = evaluate(sac, c, kwargs, c.curve_episodes,
                               eval_seed + 100 * len(state["curve"]))
            state["curve"].append([done, float(np.mean(returns))])
            timed("eval", t0)
            recent = state["episode_returns"][-5:]
            run.log(step=done, event="eval", eval_return=float(np.mean(returns)),
                    train_return=float(np.mean(recent)) if recent else None,
                    updates=state["updates"], seconds=elapsed + time.perf_counter())
        if ended and done - state["last_checkpoint"] >= c.checkpoint_every \
                or done == c.steps:
            state["t"], state["last_checkpoint"] = done, done
            state["elapsed"] = elapsed + time.perf_counter()
            t0 = time.perf_counter()
            _checkpoint(run, sac, model, real, model_buf, rng, state)
            timed("checkpoint", t0)
    env.close()
    t0 = time.perf_counter()
    final = evaluate(sac, c, kwargs, c.eval_episodes, eval_seed + 99_999)
    timed("eval", t0)
    total = sum(times.values())
    result = {
        "algorithm": "sac" if not use_model else f"mbpo-{c.loss}", "env": c.env,
        "env_kwargs": kwargs, "seed": c.seed, "steps": c.steps,
        "model": None if not use_model else f"{c.model_layers}x{c.model_width}",
        "eval_return": float(np.mean(final)), "eval_return_std": float(np.std(final)),
        "eval_returns": final, "eval_episodes": c.eval_episodes,
        "curve": state["curve"], "updates": state["updates"], "model_refits": state["refits"],
        "seconds": elapsed + time.perf_counter(), "component_seconds": times,
        "component_shares": {k: v / total for k, v in times.items()} if total else {},
        "resumed": bool(run.resumed),
    }
    _plot(run, result)
    run.write_result(result)
    return result


def _refit_and_roll(c, run, sac, model, real, model_buf, rng, state, done, true_dims, low,
                    high, timed) -> None:
    t0 = time.perf_counter()
    weights = None
    if c.loss == "vagram":
        weights = model_losses.value_gradient_weights(real.view("next"), critics_of(sac),
                                                      mean_actor(sac))
    line = {"step": done, "event": "refit"}
    fresh = np.arange(state["last_refit"], real.size)
    if state["fitted"] and len(fresh):
        line.update(_model_errors(model, real, fresh, true_dims,
                                  None if weights is None else weights[fresh]))
    loss = model_losses.get(c.loss)
    if c.loss == "vagram" and done < c.mse_warmup:
        loss = model_losses.vagram_with_mse
    curve = model.fit(real.view("obs"), real.view("act"), real.view("next"), real.view("rew"),
                      rng, loss=loss, weight=weights, patience=c.model_patience)
    state["fitted"], state["last_refit"] = True, real.size
    state["refits"] += 1
    timed("model_fit", t0)
    t0 = time.perf_counter()
    length = rollout_length(c, done)
    n = c.rollouts_per_step * c.model_every
    s = real.obs[rng.integers(0, real.size, n)]
    for _ in range(length):
        with torch.no_grad():
            a = sac.actor(torch.as_tensor(s)).numpy()
        nxt, r = model.step(s, a, rng, sample=c.loss == "mle")
        nxt = np.clip(nxt, low, high).astype(np.float32)
        model_buf.add(s, a, r, nxt, np.zeros(n, np.float32))
        s = nxt
    timed("rollouts", t0)
    line.update({"epochs": len(curve), "holdout_score": curve[-1] if curve else None,
                 "rollout_length": length, "mse_added": loss is model_losses.vagram_with_mse})
    run.log(**line)


def _checkpoint(run, sac, model, real, model_buf, rng, state) -> None:
    rng_meta, arrays = _rng_state(rng)
    arrays.update(saved.module_arrays("sac.policy", sac.policy))
    arrays["sac.log_ent_coef"] = sac.log_ent_coef.detach().numpy().copy()
    for key, opt in (("actor", sac.actor.optimizer), ("critic", sac.critic.optimizer),
                     ("ent", sac.ent_coef_optimizer)):
        arrays.update(_optimizer_arrays(f"opt.{key}", opt))
    arrays.update(real.arrays("real"))
    arrays.update(model_buf.arrays("modelbuf"))
    meta = {"state": state, "rng": rng_meta, "real_pos": real.pos, "model_pos": model_buf.pos}
    if model is not None and state["fitted"]:
        arrays.update(saved.module_arrays("model.net", model.net))
        arrays.update({"model.in_mean": model.in_scale.mean.numpy(),
                       "model.in_std": model.in_scale.std.numpy(),
                       "model.out_mean": model.out_scale.mean.numpy(),
                       "model.out_std": model.out_scale.std.numpy(),
                       "model.elites": np.asarray(model.elite_ids),
                       "model.holdout": np.asarray(model.holdout_mse)})
        meta["reward_range"] = list(model.reward_range)
    saved.save_agent(run.path, CHECKPOINT, meta, arrays, name="checkpoint")


def _restore(run, sac, model, real, model_buf, rng) -> dict:
    _, meta, arrays = saved.load_agent(run.path, kinds=(CHECKPOINT,), name="checkpoint")
    saved.load_module("sac.policy", sac.policy, arrays)
    sac.policy.set_training_mode(False)
    with torch.no_grad():
        sac.log_ent_coef.copy_(torch.from_numpy(np.array(arrays["sac.log_ent_coef"])))
    for key, opt in (("actor", sac.actor.optimizer), ("critic", sac.critic.optimizer),
                     ("ent", sac.ent_coef_optimizer)):
        _load_optimizer(f"opt.{key}", opt, arrays)
    real.load("real", arrays, meta["real_pos"])
    model_buf.load("modelbuf", arrays, meta["model_pos"])
    state = meta["state"]
    if model is not None and state["fitted"]:
        saved.load_module("model.net", model.net, arrays)
        model.in_scale = Standardizer.from_arrays(arrays["model.in_mean"], arrays["model.in_std"])
        model.out_scale = Standardizer.from_arrays(arrays["model.out_mean"],
                                                   arrays["model.out_std"])
        model.elite_ids = np.array(arrays["model.elites"])
        model.holdout_mse = np.array(arrays["model.holdout"])
        model.reward_range = tuple(meta["reward_range"])
    _set_rng_state(rng, meta["rng"], arrays)
    return state


def _plot(run: RunDir, result: dict) -> None:
    import json

    refits = []
    path = run.path / "metrics.jsonl"
    if path.is_file():
        refits = [rec for rec in map(json.loads, path.read_text().splitlines())
                  if rec.get("event") == "refit" and "err_true" in rec]
    fig, axes = plots.figure(ncols=2 if refits else 1, width=5.0, layout="constrained")
    ax = axes[0, 0]
    steps, returns = zip(*result["curve"], strict=True)
    ax.plot(steps, returns, "o-", ms=3, color=plots.PALETTE[0])
    ax.set_xlabel("env steps")
    ax.set_ylabel("return (deterministic policy, mean of episodes)")
    ax.set_title(f"{result['algorithm']} on {result['env'].split('/')[-1]} "
                 f"(seed {result['seed']})", fontsize=9)
    if refits:
        ax = axes[0, 1]
        x = [rec["step"] for rec in refits]
        ax.semilogy(x, [rec["err_true"] for rec in refits], "o-", ms=3,
                    color=plots.PALETTE[0], label="state dims")
        if "err_distractor" in refits[0]:
            ax.semilogy(x, [rec["err_distractor"] for rec in refits], "s-", ms=3,
                        color=plots.PALETTE[1], label="distractor dims")
        ax.set_xlabel("env steps (at refit)")
        ax.set_ylabel("model MSE on unseen transitions")
        ax.set_title("model error before each refit", fontsize=9)
        ax.legend(fontsize=8)
    run.save_figure("learning_curve.png", fig)
    plots.close(fig)


def summary(result: dict) -> str:
    """The headline of a run for `tacsuite train`'s one-line summary."""
    return (f"eval return {result['eval_return']:.1f} +- {result['eval_return_std']:.1f} over "
            f"{result['eval_episodes']} episodes after {result['steps']} steps "
            f"({result['updates']} SAC updates, {result['model_refits']} model refits)")


# The presets restate only defaults; `--help` takes each field's text from Config.
@dataclass
class VagramConfig(Config):
    loss: str = "vagram"


@dataclass
class MLEConfig(Config):
    loss: str = "mle"


@dataclass
class MSEConfig(Config):
    loss: str = "mse"


@dataclass
class SACConfig(Config):
    loss: str = "none"
    updates_per_step: int = 1
    out: str = "runs/sac"


def _preset(config: type, what: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(Config=config, train=train, summary=summary,
                                 __doc__=f"{what}\n\n{__doc__}")


VAGRAM = _preset(VagramConfig, "MBPO with SAC, the model fitted by VaGraM.")
MLE = _preset(MLEConfig, "MBPO with SAC, the model fitted by Gaussian likelihood.")
MSE = _preset(MSEConfig, "MBPO with SAC, the model fitted by squared error.")
SAC = _preset(SACConfig, "Model-free SAC (Stable-Baselines3) in the MBPO loop.")
