"""Benchmark LOOP's speed: one core, 100,000-step streams, ratios measured in one run.

1. Model-based LOOP on RiverSwim-6 for 1e5 steps (target: under 30 s) and textbook
   UCRL2 on the same stream length and seed, for the ratio of their times.
2. Model-based LOOP on a Garnet with S=50, A=5 (branching 5) for 1e5 steps (target:
   under 120 s).
3. Value-based LOOP on the linear AMDP (S=20, A=4, d=5) for 1e5 steps.
4. The reference: the same env stepped 1e5 times under a fixed policy (the floor that
   any learner pays for Gymnasium stepping).

For each run: total seconds, the time spent re-planning (extended value iteration or the
optimistic (w, J) program, only at switches), the per-step cost on the segments
[1e2, 1e3], [1e3, 1e4], [1e4, 1e5] (how it grows with T), and what re-planning at every
step would have cost (mean plan time x T). Writes runs/bench_loop/result.json and
bench_loop.png; prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents import loop, ucrl2  # noqa: E402
from tacsuite.agents.common.continuing import make_env  # noqa: E402
from tacsuite.common import atomic, plots  # noqa: E402

RUNS = {
    "loop RiverSwim-6": (loop, "tacsuite/RiverSwim-v0", "n_states=6", loop.TabularLOOP),
    "ucrl2 RiverSwim-6": (ucrl2, "tacsuite/RiverSwim-v0", "n_states=6", ucrl2.UCRL2),
    "loop Garnet-50x5": (loop, "tacsuite/RandomAMDP-v0",
                         "n_states=50,n_actions=5,branching=5,instance_seed=0",
                         loop.TabularLOOP),
    "loop LinearAMDP-20x4-d5": (loop, "tacsuite/LinearAMDP-v0",
                                "n_states=20,n_actions=4,d=5,instance_seed=0",
                                loop.LinearLOOP),
}


def timed_plans(cls):
    """Wrap cls._plan to record the duration of every call (restored by the caller)."""
    original = cls._plan
    durations: list[float] = []

    def wrapper(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            durations.append(time.perf_counter() - t0)

    cls._plan = wrapper
    return original, durations


def segment_costs(marks: np.ndarray, elapsed: np.ndarray, steps: int) -> dict:
    out = {}
    lo = 100
    while lo < steps:
        hi = min(lo * 10, steps)
        i, j = np.searchsorted(marks, [lo, hi])
        i, j = min(i, marks.size - 1), min(j, marks.size - 1)
        if marks[j] > marks[i]:
            out[f"{lo}-{hi}"] = 1e6 * (elapsed[j] - elapsed[i]) / (marks[j] - marks[i])
        lo = hi
    return out


def env_floor(env_id: str, env_kwargs: str, steps: int) -> float:
    env = make_env(env_id, env_kwargs)
    env.reset(seed=0)
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(0)
    env.close()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/bench_loop")
    args = ap.parse_args()
    if args.steps < 1000:
        ap.error(f"--steps must be >= 1000, got {args.steps}")
    results: dict = {}
    for name, (mod, env_id, kwargs, cls) in RUNS.items():
        original, durations = timed_plans(cls)
        try:
            run = mod.run(mod.Config(env=env_id, env_kwargs=kwargs, steps=args.steps,
                                     seed=args.seed, out=""))
        finally:
            cls._plan = original
        res = run.result
        plan_s = float(np.sum(durations))
        mean_plan = float(np.mean(durations)) if durations else 0.0
        results[name] = {
            "env": env_id, "env_kwargs": kwargs, "steps": args.steps,
            "seconds": res["seconds"], "replans": res["replans"], "switches": res["switches"],
            "regret": res["regret"], "plan_seconds": plan_s,
            "plan_share": plan_s / res["seconds"], "mean_plan_ms": 1e3 * mean_plan,
            "us_per_step_by_segment": segment_costs(run.checkpoints, run.elapsed, args.steps),
            "replan_every_step_estimate_s": mean_plan * args.steps,
            "env_floor_seconds": env_floor(env_id, kwargs, args.steps)}
    river, uc = results["loop RiverSwim-6"], results["ucrl2 RiverSwim-6"]
    figures = {
        "loop_river_swim_seconds": river["seconds"],
        "loop_river_swim_under_30s": river["seconds"] < 30,
        "ucrl2_river_swim_seconds": uc["seconds"],
        "loop_over_ucrl2_time_ratio": river["seconds"] / uc["seconds"],
        "loop_garnet_50x5_seconds": results["loop Garnet-50x5"]["seconds"],
        "loop_garnet_50x5_under_120s": results["loop Garnet-50x5"]["seconds"] < 120,
        "loop_linear_amdp_seconds": results["loop LinearAMDP-20x4-d5"]["seconds"],
    }
    for name, r in results.items():
        figures[f"{name}: seconds over env floor"] = r["seconds"] / r["env_floor_seconds"]
        figures[f"{name}: replan-every-step estimate over actual"] = \
            r["replan_every_step_estimate_s"] / r["seconds"]
    out = Path(args.out)
    atomic.write_json(out / "result.json", {"runs": results, "figures": figures,
                                            "steps": args.steps, "seed": args.seed})
    fig, axes = plots.figure(ncols=2, width=5.6, height=3.8)
    ax, ax2 = axes[0, 0], axes[0, 1]
    for i, (name, r) in enumerate(results.items()):
        seg = r["us_per_step_by_segment"]
        mids = [np.sqrt(float(k.split("-")[0]) * float(k.split("-")[1])) for k in seg]
        ax.plot(mids, list(seg.values()), "o-", color=plots.PALETTE[i], label=name)
        ax.axhline(1e6 * r["env_floor_seconds"] / args.steps, color=plots.PALETTE[i],
                   linestyle=":", linewidth=1)
        ax2.bar(i, r["seconds"], color=plots.PALETTE[i])
        ax2.bar(i, r["plan_seconds"], color="k", alpha=0.35,
                label="re-planning" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step t (segment midpoint)")
    ax.set_ylabel("microseconds per step")
    ax.set_title("per-step cost as T grows (dotted: env stepping alone)", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax2.set_xticks(range(len(results)))
    ax2.set_xticklabels([n.replace(" ", "\n", 1) for n in results], fontsize=7)
    ax2.set_ylabel(f"seconds for {args.steps:,} steps")
    ax2.set_title("total time (shaded: re-planning)", fontsize=10)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    atomic.savefig(out / "bench_loop.png", fig)
    plots.close(fig)
    for k, v in figures.items():
        print(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    for name, r in results.items():
        segs = ", ".join(f"{k}: {v:.1f}" for k, v in r["us_per_step_by_segment"].items())
        print(f"{name}: us/step by segment {segs}; re-planning {r['plan_seconds']:.2f} s "
              f"over {r['replans']} plans")
    print(f"wrote {out / 'result.json'} and {out / 'bench_loop.png'}")


if __name__ == "__main__":
    main()
