"""Benchmark `tacsuite sweep`: per-trial overhead, 1 -> 2 worker scaling, Ray vs local.

One sweep (lsvi-ucb on the simulated linear MDP, N seeds, episodes calibrated so one
trial trains for about `--job-seconds`) runs into fresh folders with the local engine on
1 and on 2 workers and, where Ray imports, with the ray engine on 2 CPUs - all in this
run, so the ratios compare like with like. Figures:

- overhead a trial (steady state): a trial's time in its worker minus the training time
  its result.json reports (run folder, config, checkpoints, logs), median over trials
  (a worker's first trial also pays the imports: that is in the next figure);
- overhead a trial (all in): (sweep wall - sum of training times) / trials with 1
  worker, which also spreads the workers' start-up (imports) over the trials;
- speedup 1 -> 2 workers: wall(1) / wall(2); Ray's overhead a trial: the ray sweep's
  wall beyond its ideal (sum of training times / workers) minus the local sweep's, over
  the trials - Ray's start-up included, and fair when the machine's load drifts between
  the two runs (training times then differ).

Writes runs/bench_sweep/result.json and bench_sweep.png; prints one line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots

ENV = "tacsuite/SimulatedLinearMDP-v0"


def calibrate(job_seconds: float, out: Path) -> int:
    """Episodes of lsvi-ucb that train for about `job_seconds`: scale the count by the
    measured time until it lands within 20% (cost per episode grows with the data)."""
    from tacsuite.cli import main

    episodes, folder = 100, out / "calibrate"
    for _ in range(5):
        shutil.rmtree(folder, ignore_errors=True)
        assert main(["train", "lsvi-ucb", "--env", ENV, "--episodes", str(episodes),
                     "--out", str(folder)]) == 0
        seconds = atomic.read_json(folder / "result.json")["seconds"]
        if 0.8 < seconds / job_seconds < 1.25:
            break
        episodes = max(10, int(episodes * min(8.0, job_seconds / seconds)))
    shutil.rmtree(folder)
    return episodes


def run_sweep(spec: Path, out: Path, engine: str, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tacsuite", "sweep", str(spec), "--engine",
                           engine, "--workers", str(workers), "--out", str(out)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"sweep {engine} x{workers} failed:\n{proc.stdout}\n{proc.stderr}")
    trained = {p.parent.name: atomic.read_json(p)["seconds"] for p in out.glob("*/result.json")}
    status = [json.loads(x) for x in (out / "logs" / "trials.jsonl").read_text().splitlines()]
    steady = [r["seconds"] - trained[r["trial"]] for r in status]
    return {"engine": engine, "workers": workers, "wall_s": wall, "trials": len(trained),
            "train_s_total": float(np.sum(list(trained.values()))),
            "train_s_mean": float(np.mean(list(trained.values()))),
            "steady_overhead_s": float(np.median(steady)),
            "first_trial_overhead_s": float(np.max(steady))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--job-seconds", type=float, default=5.0)
    ap.add_argument("--episodes", type=int, default=None, help="skip calibration")
    ap.add_argument("--no-ray", action="store_true", help="local engine only")
    ap.add_argument("--quick", action="store_true", help="6 trials of about 1 s")
    ap.add_argument("--out", default="runs/bench_sweep")
    args = ap.parse_args()
    if args.quick:
        args.trials, args.job_seconds = 6, 1.0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    episodes = args.episodes or calibrate(args.job_seconds, out)
    spec = out / "spec.json"
    spec.write_text(json.dumps({"command": "train", "algo": "lsvi-ucb",
                                "options": {"env": ENV, "episodes": episodes},
                                "seeds": list(range(args.trials))}))
    plan = [("local", 1), ("local", 2)]
    try:
        import ray.tune  # noqa: F401

        plan += [] if args.no_ray else [("ray", 2)]
    except ImportError:
        print("ray does not import: ray engine skipped (pip install 'tacsuite[ray]')")
    runs = [run_sweep(spec, out / f"{e}{w}", e, w) for e, w in plan]
    for r in runs:
        r["load_average_after"] = os.getloadavg()[0]
    one, two = runs[0], runs[1]
    result = {"trials": args.trials, "episodes": episodes, "runs": runs,
              "overhead_per_trial_s": one["steady_overhead_s"],
              "overhead_per_trial_all_in_s": (one["wall_s"] - one["train_s_total"])
              / one["trials"],
              "speedup_2_workers": one["wall_s"] / two["wall_s"]}
    if len(runs) > 2:
        excess = [r["wall_s"] - r["train_s_total"] / r["workers"] for r in (two, runs[2])]
        result["ray_overhead_per_trial_s"] = (excess[1] - excess[0]) / args.trials
        result["ray_wall_over_local"] = runs[2]["wall_s"] / two["wall_s"]
    atomic.write_json(out / "result.json", result)
    print(f"{args.trials} trials of lsvi-ucb x {episodes} episodes "
          f"(~{one['train_s_mean']:.1f} s of training each)")
    print(f"per-trial overhead: {result['overhead_per_trial_s']:.2f} s steady, "
          f"{result['overhead_per_trial_all_in_s']:.2f} s with worker start-up (1 worker)")
    for r in runs:
        print(f"{r['engine']} x{r['workers']}: {r['wall_s']:.1f} s wall, "
              f"{r['train_s_total']:.1f} s of training, steady overhead "
              f"{r['steady_overhead_s']:.2f} s a trial")
    print(f"speedup 1 -> 2 workers: {result['speedup_2_workers']:.2f}x")
    if "ray_overhead_per_trial_s" in result:
        print(f"ray vs local (2 workers): {result['ray_wall_over_local']:.2f}x wall, "
              f"{result['ray_overhead_per_trial_s']:+.2f} s a trial beyond the ideal wall")
    fig, axes = plots.figure(ncols=1, width=5.2, height=3.6, layout="constrained")
    ax = axes[0][0]
    xs = np.arange(len(runs))
    ax.bar(xs - 0.2, [r["wall_s"] for r in runs], width=0.4, label="sweep wall")
    ax.bar(xs + 0.2, [r["train_s_total"] for r in runs], width=0.4,
           label="sum of training times")
    ax.set_xticks(xs, [f"{r['engine']}\n{r['workers']} worker(s)" for r in runs])
    ax.set(ylabel="seconds", title=f"{args.trials} trials, overhead "
           f"{result['overhead_per_trial_s']:.2f} s/trial (steady)")
    plots.legend_below(fig, ncol=2)
    atomic.savefig(out / "bench_sweep.png", fig)
    plots.close(fig)


if __name__ == "__main__":
    main()
