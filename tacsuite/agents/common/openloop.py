"""Shared pieces of the open-loop optimisers (`trajopt`, `cmaes`): the task of an env id,
the budget clock, the replay of a plan in the task's env and the run folder's files.

Both optimisers minimise the same loss (`task.rollout`) over the same variables (the
T x A action sequence in [-1, 1], from the task's initial guess) and stop at the same
wall-clock budget. One rollout runs before the clock starts, so kernel compilation is
charged to neither method.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Curve:
    """Best loss so far against wall-clock seconds and simulator steps."""

    seconds: list
    sim_steps: list
    loss: list

    @classmethod
    def empty(cls) -> Curve:
        return cls([], [], [])

    def add(self, seconds: float, sim_steps: int, loss: float) -> None:
        best = min(loss, self.loss[-1]) if self.loss else loss
        self.seconds.append(float(seconds))
        self.sim_steps.append(int(sim_steps))
        self.loss.append(float(best))


def task_of(env_id: str, env_kwargs: dict | None = None):
    """The task definition behind a tactile env id (built through gym.make)."""
    import gymnasium as gym

    import tacsuite  # noqa: F401  (registers the ids)

    env = gym.make(env_id, **(env_kwargs or {}))
    task = getattr(env.unwrapped, "task", None)
    env.close()
    if task is None or not hasattr(task, "rollout"):
        raise ValueError(f"{env_id!r} is not a tactile task with a differentiable rollout; "
                         "choose one of the tacsuite/ tactile ids (tacsuite envs)")
    return task


class Clock:
    def __init__(self, budget: float):
        self.budget, self.t0 = float(budget), time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> bool:
        return self.seconds < self.budget


def replay(task, actions: np.ndarray, frames: bool = False) -> dict:
    """Run the plan in the task's env on its nominal episode: return, success, frames
    (and the largest slip where the task measures one)."""
    from tacsuite.envs.tactile.env import TaskRunner

    runner = TaskRunner(task, 1)
    runner.reset([0], [np.random.default_rng(0)], draws=[task.default_draws()])
    out = {"return": 0.0, "success": False, "frames": [runner.frame(0)] if frames else []}
    for a in actions:
        runner.step(np.asarray(a, dtype=np.float64)[None])
        reward, success, _, m = runner.outcome()
        out["return"] += float(reward[0])
        if "slip" in m:   # the largest slip of the object in the grasp so far
            out["slip"] = max(out.get("slip", 0.0), float(m["slip"][0]))
        if frames:
            out["frames"].append(runner.frame(0))
        if success[0]:
            out["success"] = True
            break
    runner.lease.release(runner)
    return out


def write_run(run, method: str, curve: Curve, best: np.ndarray, task, extra: dict) -> dict:
    """result.json, curve.png, episode.gif and actions.npy of an optimisation run."""
    from tacsuite.common import plots

    rep = replay(task, best, frames=True)
    fig, axes = plots.figure(ncols=2, width=4.2, height=3.3)
    for ax, x, label in ((axes[0, 0], curve.seconds, "wall-clock (s)"),
                         (axes[0, 1], curve.sim_steps, "simulator control steps")):
        ax.plot(x, curve.loss, marker=".", color=plots.PALETTE[0], label=method)
        ax.set_xlabel(label)
        ax.set_ylabel("best loss so far")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.suptitle(f"{task.name}: {method}")
    fig.tight_layout()
    run.save_figure("curve.png", fig)
    plots.close(fig)
    save_gif(run.path / "episode.gif", rep["frames"])
    run.save_array("actions", np.asarray(best, dtype=np.float64))
    result = {"method": method, "final_loss": curve.loss[-1] if curve.loss else None,
              "success": bool(rep["success"]), "return": rep["return"],
              "sim_steps": curve.sim_steps[-1] if curve.sim_steps else 0,
              "seconds": curve.seconds[-1] if curve.seconds else 0.0,
              "curve": {"seconds": curve.seconds, "sim_steps": curve.sim_steps,
                        "loss": curve.loss}, **extra}
    run.write_result(result)
    return result


def save_gif(path, frames: list, fps: float = 10.0):
    """An animated GIF of uint8 frames (PIL, which matplotlib already installs)."""
    import io

    from PIL import Image

    from tacsuite.common import atomic

    images = [Image.fromarray(f).convert("P", palette=Image.ADAPTIVE) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(1000 / fps), loop=0)
    return atomic.write_bytes(path, buf.getvalue())
