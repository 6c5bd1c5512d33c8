"""Stable-Baselines3 PPO on the tactile tasks, stepping the task's native vector
env (`TaskRunner`: the n_envs environments in one world's batch axis).

`TaskVecEnv` is SB3's `VecEnv` face of a `TaskRunner`: SB3 wants same-step autoreset
(an ended environment is reset at once and its last observation goes in
`info["terminal_observation"]`), so it does that itself rather than wrapping the
Gymnasium vector env's next-step autoreset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from tacsuite.envs.validation import check_vector_actions


class TaskVecEnv(VecEnv):
    # SB3's VecEnv asks its environments for render_mode (and warns when it is missing);
    # training never renders: the run's episode GIF comes from the task's own env.
    render_mode = None

    def __init__(self, task, num_envs: int, seed: int = 0):
        from tacsuite.envs.tactile.env import TaskRunner, _spaces

        self.runner = TaskRunner(task, num_envs)
        obs_space, act_space = _spaces(self.runner, "state")
        super().__init__(num_envs, obs_space, act_space)
        self._rngs = [np.random.default_rng(seed + i) for i in range(num_envs)]
        self._actions = None
        self.returns = []          # completed episode returns, in order
        self.successes = []
        self._ret = np.zeros(num_envs)

    def _obs(self):
        p, t = self.runner.observe()
        return np.concatenate([p, t], axis=1)

    def reset(self):
        self.runner.reset(np.arange(self.num_envs), self._rngs)
        self._ret[:] = 0.0
        return self._obs()

    def step_async(self, actions):
        self._actions = check_vector_actions(actions, self.action_space, self.num_envs)

    def step_wait(self):
        self.runner.step(self._actions)
        reward, term, trunc, _ = self.runner.outcome()
        obs = self._obs()
        done = term | trunc
        self._ret += reward
        infos = [{} for _ in range(self.num_envs)]
        ended = np.flatnonzero(done)
        if len(ended):
            for i in ended:
                infos[i]["terminal_observation"] = obs[i].copy()
                infos[i]["TimeLimit.truncated"] = bool(trunc[i])
                self.returns.append(float(self._ret[i]))
                self.successes.append(bool(term[i]))
                self._ret[i] = 0.0
            self.runner.reset(ended, [self._rngs[i] for i in ended])
            obs[ended] = self._obs()[ended]
        return obs, reward.astype(np.float32), done, infos

    def close(self):
        self.runner.lease.release(self.runner)

    def get_attr(self, attr_name, indices=None):
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name, value, indices=None):
        setattr(self, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [None] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._indices(indices))

    def _indices(self, indices):
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices


@dataclass
class SB3Config:
    env: str = "tacsuite/SurfaceFollow-v0"
    """Tactile task id."""
    env_kwargs: str = ""
    """Task keyword arguments, k=v,k2=v2."""
    steps: int = 2000
    """Environment steps (all parallel environments together)."""
    n_envs: int = 8
    """Environments in the native vector env."""
    seed: int = 0
    """Seed."""
    out: str = "runs/train"
    """Run folder (config.json, result.json, returns.npy, curve.png)."""
    overwrite: bool = False
    """Replace a run already in --out."""


def train_sb3(config: SB3Config, algo: str, make_model) -> dict:
    from tacsuite.agents.common.openloop import task_of
    from tacsuite.common import plots
    from tacsuite.common.cliargs import parse_kwargs
    from tacsuite.common.runs import RunDir
    from tacsuite.common.seeding import set_seed

    if config.steps < 1 or config.n_envs < 1:
        raise ValueError(f"steps and n_envs must be >= 1, got {config.steps}, {config.n_envs}")
    set_seed(config.seed)
    task = task_of(config.env, parse_kwargs(config.env_kwargs))
    t0 = time.perf_counter()
    venv = TaskVecEnv(task, config.n_envs, config.seed)
    model = make_model(venv)
    model.learn(total_timesteps=config.steps)
    seconds = time.perf_counter() - t0
    rets = np.asarray(venv.returns, dtype=np.float64)
    tail = rets[-max(1, len(rets) // 5):] if len(rets) else rets
    result = {"algo": algo, "env": config.env, "steps": config.steps,
              "episodes": int(len(rets)),
              "return": float(tail.mean()) if len(tail) else None,
              "success": float(np.mean(venv.successes[-len(tail):])) if len(tail) else 0.0,
              "sim_steps": int(model.num_timesteps), "seconds": seconds,
              "final_loss": None}
    venv.close()
    if config.out:
        with RunDir(config.out, config) as run:
            run.save_array("returns", rets)
            fig, axes = plots.figure(width=4.5, height=3.3)
            ax = axes[0, 0]
            ax.plot(np.arange(1, len(rets) + 1), rets, marker=".", color=plots.PALETTE[0],
                    label=algo)
            ax.set_xlabel("episode")
            ax.set_ylabel("return")
            ax.set_title(f"{task.name}: {algo}")
            ax.legend(fontsize=8)
            fig.tight_layout()
            run.save_figure("curve.png", fig)
            plots.close(fig)
            run.write_result(result)
    return result


def summary(result: dict) -> str:
    r = result["return"]
    return (f"{result['algo']}: mean return of the last episodes "
            f"{'n/a' if r is None else f'{r:.2f}'}, success {result['success']:.2f}, "
            f"{result['episodes']} episodes")
