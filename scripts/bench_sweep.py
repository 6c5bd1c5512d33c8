"""Benchmark `tacsuite sweep --engine local`: per-trial overhead and 1 -> 2 worker scaling.

Runs the same short sweep (lsvi-ucb on the simulated linear MDP, N seeds) with 1 and
with 2 workers into fresh folders. Per-trial overhead = the trial's wall time as the
sweep sees it (process start, imports, run folder) minus the training time the trial
reports in its result.json. Scaling = wall time with 1 worker / wall time with 2.

Writes runs/bench_sweep/result.json and bench_sweep.png; prints one line per figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots


def run_sweep(spec: Path, out: Path, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tacsuite", "sweep", str(spec), "--workers",
                    str(workers), "--out", str(out)], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    trained = [atomic.read_json(p)["seconds"] for p in out.glob("*/result.json")]
    return {"workers": workers, "wall_s": wall, "trials": len(trained),
            "train_s_total": float(np.sum(trained))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--out", default="runs/bench_sweep")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spec = out / "spec.json"
    spec.write_text(json.dumps({"command": "train", "algo": "lsvi-ucb",
                                "options": {"env": "tacsuite/SimulatedLinearMDP-v0",
                                            "episodes": args.episodes},
                                "seeds": list(range(args.seeds))}))
    runs = [run_sweep(spec, out / f"w{w}", w) for w in (1, 2)]
    one = runs[0]
    overhead = (one["wall_s"] - one["train_s_total"]) / one["trials"]
    result = {"seeds": args.seeds, "episodes": args.episodes, "runs": runs,
              "overhead_per_trial_s": overhead,
              "speedup_2_workers": runs[0]["wall_s"] / runs[1]["wall_s"]}
    atomic.write_json(out / "result.json", result)
    print(f"per-trial overhead (1 worker): {overhead:.2f} s")
    for r in runs:
        print(f"{r['trials']} trials, {r['workers']} worker(s): {r['wall_s']:.1f} s wall, "
              f"{r['train_s_total']:.1f} s of training")
    print(f"speedup 1 -> 2 workers: {result['speedup_2_workers']:.2f}x")
    fig, axes = plots.figure(ncols=1, width=4.6, height=3.4, layout="constrained")
    ax = axes[0][0]
    ws = [r["workers"] for r in runs]
    ax.bar([w - 0.2 for w in ws], [r["wall_s"] for r in runs], width=0.4, label="sweep wall")
    ax.bar([w + 0.2 for w in ws], [r["train_s_total"] for r in runs], width=0.4,
           label="sum of training times")
    ax.set(xticks=ws, xlabel="workers", ylabel="seconds",
           title=f"{args.seeds} trials, overhead {overhead:.2f} s/trial")
    plots.legend_below(fig, ncol=2)
    atomic.savefig(out / "bench_sweep.png", fig)
    plots.close(fig)


if __name__ == "__main__":
    main()
