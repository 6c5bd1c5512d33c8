"""One infinite stream of T steps for the average-reward learners, and its run folder.

The learners never reset the environment's clock: the stream steps the bare env
(`env.unwrapped`, below the registered `TimeLimit` and the episode guard, so a user's
`max_episode_steps` in `--env-kwargs` has no effect; actions are still checked by the env
itself), and only a `terminated` from an
episodic env restarts it, the restart being the next state of that same step (the
continuing conversion). Rewards reach the learners rescaled to [0, 1] by the env's
`reward_bounds` (default (0, 1)); regret is reported in the env's own units against the
exact optimal gain where the env exposes `P` and `R`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.progress import progress
from tacsuite.common.runs import RunDir
from tacsuite.common.seeding import set_seed
from tacsuite.theory.average_reward import optimal_gain


class StreamLearner(Protocol):
    replans: int
    """How many times the learner recomputed its hypothesis (policy or not changed)."""
    gains: list[float]
    """The (optimistic) gain of each hypothesis it played, in [0, 1] reward units."""

    def act(self, s: int, info: dict) -> int: ...

    def observe(self, s: int, a: int, r: float, s2: int, info: dict, t: int) -> bool:
        """Learn from one transition (r in [0, 1]); True when the played policy changed."""
        ...

    def policy_table(self) -> np.ndarray | None:
        """(S,) greedy action per state, where the learner can name one for every state."""
        ...


class PolicyTableLearner:
    """A stream learner that plays one action per state from its table `policy`, the
    table being replaced whenever it replans."""

    policy: np.ndarray
    replans: int
    gains: list[float]

    def act(self, s: int, info: dict) -> int:
        return int(self.policy[s])

    def policy_table(self) -> np.ndarray:
        return self.policy.copy()

    def adopt(self, plan) -> bool:
        """Play `plan`'s policy from now on and record its gain; True when the policy
        changed."""
        changed = bool(np.any(self.policy != plan.policy))
        self.policy = plan.policy
        self.replans += 1
        self.gains.append(plan.gain)
        return changed


@dataclass
class ContinuingConfig:
    env: str = "tacsuite/RiverSwim-v0"
    """Environment id (Discrete observations and actions; continuing or auto-restarted)."""
    env_kwargs: str = ""
    """Keyword arguments for gym.make, as k=v,k2=v2 (values read as Python literals)."""
    steps: int = 10_000
    """Length T of the single stream of interaction."""
    seed: int = 0
    """Seed of the environment and of the learner's random draws."""
    out: str = ""
    """Run folder (config.json, metrics.jsonl, result.json, rewards.npy, switches.npy,
    regret.png); empty writes nothing."""


def make_env(env_id: str, env_kwargs: str | dict[str, Any]) -> gym.Env:
    kwargs = parse_kwargs(env_kwargs) if isinstance(env_kwargs, str) else dict(env_kwargs)
    kwargs.setdefault("max_episode_steps", -1)
    env = gym.make(env_id, **kwargs)
    for name, space in (("observation", env.observation_space), ("action", env.action_space)):
        if not isinstance(space, spaces.Discrete):
            env.close()
            raise ValueError(f"{env_id} has {name} space {space}; the average-reward "
                             f"learners need Discrete observations and actions")
    return env


def reward_bounds(env: gym.Env) -> tuple[float, float]:
    lo, hi = getattr(env.unwrapped, "reward_bounds", (0.0, 1.0))
    if not hi > lo:
        raise ValueError(f"reward_bounds must satisfy low < high, got {(lo, hi)}")
    return float(lo), float(hi)


def gain_oracle(env: gym.Env) -> tuple[float, float] | tuple[None, None]:
    """(J*, sp(h*)) of the env's exact model, or (None, None) where it exposes none."""
    u = env.unwrapped
    if not (hasattr(u, "P") and hasattr(u, "R")):
        return None, None
    sol = optimal_gain(u.P, u.R, tol=1e-10)
    return sol.gain, float(np.ptp(sol.bias))


@dataclass
class ContinuingRun:
    learner: Any
    result: dict[str, Any]
    rewards: np.ndarray      # (T,) reward of every step, env units
    switches: np.ndarray     # steps after which the played policy changed
    checkpoints: np.ndarray  # log-spaced step counts ...
    elapsed: np.ndarray      # ... and the wall-clock seconds when each was reached


def run_continuing(config: ContinuingConfig, algo: str, make_learner) -> ContinuingRun:
    """Play `make_learner(env, info0, steps, rng)` for config.steps steps; write the run."""
    steps = config.steps
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    rng = set_seed(config.seed)
    env = make_env(config.env, config.env_kwargs).unwrapped
    lo, hi = reward_bounds(env)
    gain_star, span_star = gain_oracle(env)
    run = RunDir(config.out, config, seed=config.seed) if config.out else None
    s, info = env.reset(seed=config.seed)
    s = int(s)
    learner = make_learner(env, info, steps, rng)
    rewards = np.empty(steps)
    switches: list[int] = []
    marks = np.unique(np.geomspace(1, steps, 40).astype(int))
    checkpoints = set(marks.tolist())
    elapsed: list[float] = []
    bar = progress(total=steps, desc=algo, unit="step")
    t0 = time.perf_counter()
    total = 0.0
    for t in range(steps):
        a = learner.act(s, info)
        s2, r, term, _trunc, info = env.step(a)
        r = float(r)
        if term:
            s2, info = env.reset()
        r01 = (r - lo) / (hi - lo)
        if not -1e-9 <= r01 <= 1 + 1e-9:
            raise ValueError(f"reward {r} at step {t} is outside the env's reward_bounds "
                             f"{(lo, hi)}")
        rewards[t] = r
        total += r
        s2 = int(s2)
        if learner.observe(s, a, r01, s2, info, t + 1):
            switches.append(t + 1)
        s = s2
        if (t + 1) % 1000 == 0:
            bar.update(1000)
        if t + 1 in checkpoints:
            elapsed.append(time.perf_counter() - t0)
        if run is not None and t + 1 in checkpoints:
            row = {"step": t + 1, "total_reward": total, "switches": len(switches),
                   "seconds": elapsed[-1]}
            if gain_star is not None:
                row["regret"] = (t + 1) * gain_star - total
            run.log(**row)
    bar.update(steps % 1000)
    bar.close()
    seconds = time.perf_counter() - t0
    gains = np.asarray(learner.gains, dtype=np.float64) * (hi - lo) + lo
    result: dict[str, Any] = {
        "algo": algo, "env": config.env, "seed": config.seed, "steps": steps,
        "total_reward": float(rewards.sum()), "switches": len(switches),
        "replans": int(learner.replans), "gain_star": gain_star, "bias_span_star": span_star,
        "regret": None if gain_star is None else float(steps * gain_star - rewards.sum()),
        "seconds": seconds, "steps_per_second": steps / seconds if seconds > 0 else None,
    }
    if gains.size:
        result["last_gain_estimate"] = float(gains[-1])
        if gain_star is not None:
            result["optimistic_fraction"] = float(np.mean(gains >= gain_star - 1e-9))
    if run is not None:
        run.save_array("rewards", rewards)
        run.save_array("switches", np.asarray(switches, dtype=np.int64))
        if gains.size:
            run.save_array("gains", gains)
        policy = learner.policy_table()
        if policy is not None:
            probs = np.eye(env.action_space.n)[policy]
            run.save_json("policy.json", {"probs": probs.tolist()})
        fig = regret_figure(rewards, switches, gain_star, algo, config.env)
        run.save_figure("regret.png", fig)
        from tacsuite.common import plots

        plots.close(fig)
        run.write_result(result)
    env.close()
    return ContinuingRun(learner, result, rewards, np.asarray(switches, dtype=np.int64), marks,
                         np.asarray(elapsed))


def regret_figure(rewards: np.ndarray, switches: list[int], gain_star: float | None,
                  algo: str, env_id: str):
    from tacsuite.common import plots

    fig, axes = plots.figure()
    ax = axes[0, 0]
    t = np.arange(1, rewards.size + 1)
    if gain_star is not None:
        ax.plot(t, t * gain_star - np.cumsum(rewards), color=plots.PALETTE[0],
                label=f"regret (J* = {gain_star:.4g})")
        ax.set_ylabel("regret  T J* - sum r")
    else:
        ax.plot(t, np.cumsum(rewards), color=plots.PALETTE[0], label="cumulative reward")
        ax.set_ylabel("cumulative reward")
    if switches:
        ymin, ymax = ax.get_ylim()
        ax.vlines(switches, ymin, ymin + 0.04 * (ymax - ymin), color=plots.PALETTE[1],
                  linewidth=0.6, label=f"policy switches ({len(switches)})")
        ax.set_ylim(ymin, ymax)
    ax.set_xlabel("step t")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    ax.set_title(f"{algo} on {env_id}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def summary(result: dict) -> str:
    """The headline of a continuing run for `tacsuite train`'s one-line summary."""
    line = (f"total reward {result['total_reward']:.1f} over {result['steps']} steps, "
            f"{result['switches']} policy switches")
    if result.get("regret") is not None:
        line += f", regret {result['regret']:.1f} against J* = {result['gain_star']:.4f}"
    return line
