"""Benchmark the tactile envs on their default scenes: env steps per second of one env, of
the native vector env (N environments in one world's batch axis) at 16 and 64, and of
gymnasium's AsyncVectorEnv with 2 processes (spawn), all in the same run; the native
vector env at 16 in `obs_mode="image"` (tactile images rendered every step); and the
time of one gradient iteration (forward + checkpointed reverse pass) of SurfaceFollow
over 100 control steps.

Kernel compilation and process start-up are excluded (a warm-up before each clock). The
scene of each task (bodies, gel nodes and tets, substeps) is recorded beside its figures,
and so are the machine's CPU count and load average before and after: timings taken
while other work shares the cores are upper bounds on the cost (`--shared` says so in
the result). Writes runs/bench_tactile_envs/result.json and bench_tactile_envs.png.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

TASKS = ("tacsuite/ObjectRepose-v0", "tacsuite/SurfaceFollow-v0", "tacsuite/CaseOpen-v0",
         "tacsuite/TactileGrasp-v1", "tacsuite/CableStraighten-v1")
KINDS = ("single", "native_16", "native_64", "async_2")


def steps_per_second(envs, steps: int, n: int) -> float:
    envs.reset(seed=0)
    envs.action_space.seed(0)
    for _ in range(2):
        envs.step(envs.action_space.sample())
    t0 = time.perf_counter()
    for _ in range(steps):
        envs.step(envs.action_space.sample())
    return steps * n / (time.perf_counter() - t0)


def scene_of(env_id: str) -> dict:
    import gymnasium as gym

    env = gym.make(env_id)
    world = env.unwrapped.runner.world
    out = {"bodies": {b.name: {"kind": b.kind, **({"nodes": int(b.n), "tets": int(b.m)}
                                                  if b.kind == "fem" else {})}
                      for b in world.bodies},
           "substeps": int(world.substeps), "dt": float(world.dt)}
    out["tets"] = sum(b.get("tets", 0) for b in out["bodies"].values())
    env.close()
    return out


def bench_task(env_id: str, steps: int, sizes: tuple[int, ...]) -> dict:
    import gymnasium as gym

    res = {"scene": scene_of(env_id)}
    single = gym.make_vec(env_id, num_envs=1, vectorization_mode="sync")
    res["single"] = steps_per_second(single, steps, 1)
    single.close()
    for n in sizes:
        v = gym.make_vec(env_id, num_envs=n)
        res[f"native_{n}"] = steps_per_second(v, steps, n)
        v.close()
    v = gym.make_vec(env_id, num_envs=16, obs_mode="image")
    res["native_16_image"] = steps_per_second(v, steps, 16)
    v.close()
    a = gym.make_vec(f"tacsuite:{env_id}", num_envs=2, vectorization_mode="async",
                     vector_kwargs={"context": "spawn"})
    res["async_2"] = steps_per_second(a, steps, 2)
    a.close()
    print(f"{env_id} ({res['scene']['tets']} gel tets, {res['scene']['substeps']} "
          f"substeps): " + ", ".join(f"{k} {res[k]:.1f}" for k in (*KINDS, "native_16_image")
                                     if k in res) + " env steps/s")
    return res


def plot(res: dict, path: Path) -> None:
    import numpy as np

    from tacsuite.common import atomic, plots

    tasks = list(res["tasks"])
    kinds = [k for k in (*KINDS, "native_16_image") if k in res["tasks"][tasks[0]]]
    fig, axes = plots.figure(width=7.0, height=3.8)
    ax = axes[0, 0]
    w = 0.8 / len(kinds)
    for j, k in enumerate(kinds):
        vals = [res["tasks"][t][k] for t in tasks]
        ax.bar(np.arange(len(tasks)) + (j - (len(kinds) - 1) / 2) * w, vals, w,
               color=plots.PALETTE[j], label=k.replace("_", " x").replace(" ximage",
                                                                          " (image)"))
    labels = [f"{t.split('/')[1].split('-')[0]}\n{res['tasks'][t]['scene']['tets']} tets"
              for t in tasks]
    ax.set_xticks(range(len(tasks)), labels, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("env steps per second")
    shared = "shared, loaded machine: upper bounds on cost" if res["machine"]["shared"] \
        else "idle machine"
    ax.set_title(f"tactile envs, {res['steps']} timed steps each ({shared})", fontsize=9)
    ax.legend(fontsize=7, ncols=len(kinds), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    atomic.savefig(path, fig)
    plots.close(fig)


def main() -> None:
    import gymnasium as gym  # noqa: F401

    import tacsuite  # noqa: F401
    from tacsuite.common import atomic

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--envs", nargs="+", default=list(TASKS))
    ap.add_argument("--steps", type=int, default=40, help="timed steps per configuration")
    ap.add_argument("--quick", action="store_true", help="10 steps, no 64-env run")
    ap.add_argument("--shared", action="store_true",
                    help="record that other work shared the machine during the run")
    ap.add_argument("--out", default="runs/bench_tactile_envs")
    args = ap.parse_args()
    steps = 10 if args.quick else args.steps
    if steps < 1:
        raise SystemExit(f"--steps must be >= 1, got {steps}")
    out = Path(args.out)
    res = {"steps": steps, "machine": {"cpus": os.cpu_count(), "shared": bool(args.shared),
                                       "load_avg_before": list(os.getloadavg())},
           "tasks": {}}
    for env_id in args.envs:
        res["tasks"][env_id] = bench_task(env_id, steps, (16,) if args.quick else (16, 64))

    from tacsuite.envs.tactile.surface_follow import SurfaceFollowTask

    sf = SurfaceFollowTask(horizon=100)
    acts = sf.initial_actions()
    sf.rollout(acts, kind="both")
    t0 = time.perf_counter()
    sf.rollout(acts, kind="both")
    res["grad_iteration_s_surface_follow_100"] = time.perf_counter() - t0
    print(f"one gradient iteration, SurfaceFollow 100 steps: "
          f"{res['grad_iteration_s_surface_follow_100']:.2f} s")
    res["machine"]["load_avg_after"] = list(os.getloadavg())
    atomic.write_json(out / "result.json", res)
    plot(res, out / "bench_tactile_envs.png")
    print(f"-> {out}/result.json")


if __name__ == "__main__":
    main()
