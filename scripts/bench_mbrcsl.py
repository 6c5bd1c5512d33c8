"""Benchmark the full MBRCSL pipeline (GridStitch-v0 by default): seconds per stage.

    python scripts/bench_mbrcsl.py           # default MBRCSL budget (target: < 2 min, 2 cores)
    python scripts/bench_mbrcsl.py --quick   # the small test budget
    python scripts/bench_mbrcsl.py --dataset pointmaze-mixed --out runs/bench_mbrcsl_pointmaze

Prints one line per figure; the reference is plain RCSL on the dataset, measured in the
same process, so the ratios hold across machines. Writes runs/bench_mbrcsl/result.json
and stages.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents import mbrcsl, rcsl  # noqa: E402
from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.envs import datasets  # noqa: E402

SMALL = dict(model_hidden=(128, 128), model_epochs=8, behavior_hidden=(128, 128),
             behavior_epochs=10, rcsl_hidden=(128, 128), rcsl_epochs=15, keep=100)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--out", default="runs/bench_mbrcsl", help="output folder")
    p.add_argument("--quick", action="store_true", help="small network and epoch budget")
    p.add_argument("--dataset", default="gridstitch-mixed",
                   help="named dataset (pointmaze-mixed needs tacsuite[mujoco])")
    args = p.parse_args(argv)
    out = Path(args.out)
    tick = time.perf_counter()
    spec, _ = datasets.resolve(args.dataset)
    common = dict(seed=args.seed, env=spec.env_id, dataset=args.dataset)
    eps = datasets.collect(spec.env_id, spec.policy, spec.episodes, seed=0)
    datasets.write_minari("tacsuite/bench/scratch-v0", eps, spec.env_id)  # a scratch id:
    data_s = time.perf_counter() - tick  # rewriting the real one could race other readers
    shutil.rmtree(datasets.dataset_path("tacsuite/bench/scratch-v0"))

    ref = rcsl.train(rcsl.Config(**common, out=str(out / "rcsl"), overwrite=True,
                                 **(dict(hidden=(128, 128), epochs=15) if args.quick else {})))
    res = mbrcsl.train(mbrcsl.Config(**common, out=str(out / "mbrcsl"), overwrite=True,
                                      **(SMALL if args.quick else {})))
    stages = {"dataset": data_s, **res["stage_seconds"]}
    total = data_s + res["seconds"]
    print(f"dataset generation + Minari write: {data_s:.2f} s")
    for name, sec in res["stage_seconds"].items():
        print(f"mbrcsl stage {name}: {sec:.2f} s ({100 * sec / res['seconds']:.0f}% of MBRCSL)")
    print(f"mbrcsl total: {res['seconds']:.1f} s = {res['seconds'] / ref['seconds']:.1f}x plain "
          f"RCSL ({ref['seconds']:.1f} s); with dataset {total:.1f} s")
    print(f"mbrcsl return {res['eval_return']:.2f} vs RCSL {ref['eval_return']:.2f} "
          f"(dataset best {res['dataset_max_return']:.1f})")
    fig, axes = plots.figure(width=6)
    ax = axes[0, 0]
    names = list(stages)
    ax.barh(names, [stages[n] for n in names], color=plots.PALETTE[: len(names)])
    ax.axvline(ref["seconds"], color="k", ls="--", lw=1, label="plain RCSL total")
    ax.set_xlabel("seconds (1 torch thread)")
    ax.set_title(f"MBRCSL on {spec.env_id.split('/')[-1]}: {res['seconds']:.0f} s total")
    ax.legend(fontsize=8)
    atomic.savefig(out / "stages.png", fig)
    plots.close(fig)
    atomic.write_json(out / "result.json", {
        "stage_seconds": stages, "mbrcsl_seconds": res["seconds"], "total_seconds": total,
        "rcsl_seconds": ref["seconds"], "ratio_to_rcsl": res["seconds"] / ref["seconds"],
        "mbrcsl_return": res["eval_return"], "rcsl_return": ref["eval_return"],
        "dataset": args.dataset, "quick": args.quick,
        "cpu_count": os.cpu_count(), "png": "stages.png",
        "kept_rollouts": res["kept_rollouts"],
        "generated_rollouts": res["generated_rollouts"],
        "model_return_mean": float(np.round(res["model_return_mean"], 3))})
    return 0


if __name__ == "__main__":
    sys.exit(main())
