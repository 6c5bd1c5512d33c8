"""Benchmark the tactile envs: env steps per second of one env, of the native vector env
(N environments in one world's batch axis) at 16 and 64, and of gymnasium's
AsyncVectorEnv with 2 processes (spawn), all in the same run; and the time of one
gradient iteration (forward + checkpointed reverse pass) of SurfaceFollow over 100
control steps.

Kernel compilation and process start-up are excluded (a warm-up before each clock).
Writes runs/bench_tactile_envs/result.json and bench_tactile_envs.png.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def steps_per_second(envs, steps: int, n: int) -> float:
    envs.reset(seed=0)
    envs.action_space.seed(0)
    for _ in range(2):
        envs.step(envs.action_space.sample())
    t0 = time.perf_counter()
    for _ in range(steps):
        envs.step(envs.action_space.sample())
    return steps * n / (time.perf_counter() - t0)


def main() -> None:
    import gymnasium as gym

    import tacsuite  # noqa: F401
    from tacsuite.common import atomic, plots

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="tacsuite/SurfaceFollow-v0")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="fewer steps, no 64-env run")
    ap.add_argument("--out", default="runs/bench_tactile_envs")
    args = ap.parse_args()
    steps = 10 if args.quick else args.steps
    out = Path(args.out)
    res = {"env": args.env, "steps": steps}
    env = gym.make(args.env)
    world = env.unwrapped.runner.world
    res["scene"] = {b.name: {"kind": b.kind, **({"nodes": int(b.n), "tets": int(b.m)}
                                                 if b.kind == "fem" else {})}
                    for b in world.bodies}
    res["substeps"], res["dt"] = world.substeps, world.dt
    env.close()
    single = gym.make_vec(args.env, num_envs=1, vectorization_mode="sync")
    res["single"] = steps_per_second(single, steps, 1)
    single.close()
    print(f"single env: {res['single']:.1f} env steps/s")
    for n in ((16,) if args.quick else (16, 64)):
        v = gym.make_vec(args.env, num_envs=n)
        res[f"native_{n}"] = steps_per_second(v, steps, n)
        v.close()
        print(f"native vector env x{n}: {res[f'native_{n}']:.1f} env steps/s "
              f"({res[f'native_{n}'] / res['single']:.1f}x the single env)")
    a = gym.make_vec(f"tacsuite:{args.env}", num_envs=2, vectorization_mode="async",
                     vector_kwargs={"context": "spawn"})
    res["async_2"] = steps_per_second(a, steps, 2)
    a.close()
    print(f"AsyncVectorEnv x2 (spawn): {res['async_2']:.1f} env steps/s "
          f"({res['async_2'] / res['single']:.1f}x)")

    from tacsuite.envs.tactile.surface_follow import SurfaceFollowTask

    sf = SurfaceFollowTask(horizon=100)
    acts = sf.initial_actions()
    sf.rollout(acts, kind="both")
    t0 = time.perf_counter()
    sf.rollout(acts, kind="both")
    res["grad_iteration_s_surface_follow_100"] = time.perf_counter() - t0
    print(f"one gradient iteration, SurfaceFollow 100 steps: "
          f"{res['grad_iteration_s_surface_follow_100']:.2f} s")
    atomic.write_json(out / "result.json", res)
    keys = [k for k in ("single", "native_16", "native_64", "async_2") if k in res]
    fig, axes = plots.figure(width=5.0, height=3.4)
    ax = axes[0, 0]
    ax.bar(range(len(keys)), [res[k] for k in keys], color=plots.PALETTE[0])
    ax.set_xticks(range(len(keys)), [k.replace("_", " x") for k in keys])
    ax.set_ylabel("env steps per second")
    ax.set_title(f"{args.env} ({steps} steps each)", fontsize=10)
    fig.tight_layout()
    atomic.savefig(out / "bench_tactile_envs.png", fig)
    plots.close(fig)
    print(f"-> {out}/result.json")


if __name__ == "__main__":
    main()
