"""Benchmark the model-generalization testbeds: env steps per second, single process.

    python scripts/bench_modelgen.py            # 20,000 steps per env (goal: > 20k steps/s)
    python scripts/bench_modelgen.py --steps 5000

For each env (the paper's default sizes and the reproduction's CPU sizes) it times
`env.step` with uniformly random actions through `gym.make` (wrappers included) and on the
unwrapped env, and, as the reference measured in the same run, the batched transition
function the perfect-model agent uses on batches of 320 (transitions per second). Prints
one line per figure; writes runs/bench_modelgen/result.json and steps_per_second.png.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import tacsuite  # noqa: E402, F401
from tacsuite.common import atomic, plots  # noqa: E402

CASES = {
    "ProcMaze g4": ("tacsuite/ProcMaze-v0", {"grid_size": 4}),
    "ProcMaze g10": ("tacsuite/ProcMaze-v0", {"grid_size": 10}),
    "ButtonGrid g5 b2": ("tacsuite/ButtonGrid-v0", {"grid_size": 5, "num_buttons": 2}),
    "ButtonGrid g10 b3": ("tacsuite/ButtonGrid-v0", {"grid_size": 10, "num_buttons": 3}),
    "PanFlute 3": ("tacsuite/PanFlute-v0", {"num_pipes": 3}),
    "PanFlute 5": ("tacsuite/PanFlute-v0", {"num_pipes": 5}),
}
GOAL = 20_000.0


def env_rate(env, steps: int, seed: int) -> float:
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, steps).tolist()
    tick = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - tick)


def batch_rate(env, steps: int, seed: int, batch: int = 320) -> float:
    dyn = env.unwrapped.dynamics
    rng = np.random.default_rng(seed)
    obs = dyn.reset(rng, batch)
    calls = max(steps // batch, 1)
    tick = time.perf_counter()
    for _ in range(calls):
        obs, _, _ = dyn.step(obs, rng.integers(0, env.action_space.n, batch), rng)
    return calls * batch / (time.perf_counter() - tick)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20_000, help="steps timed per env and mode")
    p.add_argument("--seed", type=int, default=0, help="seed of the actions")
    p.add_argument("--out", default="runs/bench_modelgen", help="output folder")
    args = p.parse_args(argv)
    if args.steps < 1:
        raise SystemExit(f"--steps must be >= 1, got {args.steps}")
    out = Path(args.out)
    rows = {}
    for name, (env_id, kwargs) in CASES.items():
        env = gym.make(env_id, **kwargs)
        wrapped = env_rate(env, args.steps, args.seed)
        bare = env_rate(env.unwrapped, args.steps, args.seed)
        batched = batch_rate(env, args.steps * 4, args.seed)
        env.close()
        rows[name] = {"env": env_id, "kwargs": kwargs, "gym_make_steps_per_s": wrapped,
                      "unwrapped_steps_per_s": bare, "batched_320_transitions_per_s": batched,
                      "single_over_batched": wrapped / batched, "meets_goal": wrapped > GOAL}
        print(f"{name}: {wrapped:,.0f} steps/s via gym.make, {bare:,.0f} unwrapped; "
              f"batched x320 {batched:,.0f} transitions/s ({wrapped / batched:.3f}x); "
              f"goal {GOAL:,.0f}: {'met' if wrapped > GOAL else 'MISSED'}")
    _plot(out, rows)
    atomic.write_json(out / "result.json", {"steps": args.steps, "goal_steps_per_s": GOAL,
                                            "rows": rows, "png": ["steps_per_second.png"]})
    print(f"wrote {out}/result.json, steps_per_second.png")
    return 0


def _plot(out: Path, rows: dict) -> None:
    fig, axes = plots.figure(width=9.0, height=3.8)
    ax = axes[0, 0]
    names = list(rows)
    y = np.arange(len(names))
    ax.barh(y - 0.2, [rows[n]["gym_make_steps_per_s"] for n in names], 0.4,
            color=plots.PALETTE[0], label="env.step via gym.make")
    ax.barh(y + 0.2, [rows[n]["unwrapped_steps_per_s"] for n in names], 0.4,
            color=plots.PALETTE[2], label="env.step unwrapped")
    ax.axvline(GOAL, color="k", ls="--", lw=1, label="goal 20k steps/s")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("single-process env steps per second")
    ax.set_title("Model-generalization testbeds: env speed")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    atomic.savefig(out / "steps_per_second.png", fig)
    plots.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
