"""Reproduce the MBRCSL stitching table: BC, %BC, RCSL, DT-lite, IQL, MBRCSL over seeds.

    python scripts/reproduce_mbrcsl.py            # 5 seeds, default budgets (~15 min, 1 core)
    python scripts/reproduce_mbrcsl.py --quick    # 2 seeds, small budgets (~1-2 min)
    python scripts/reproduce_mbrcsl.py --workers 2 [--engine ray]   # trials in parallel

The runs are the sweep `scripts/sweeps/reproduce_mbrcsl.yaml` (`_quick.yaml` with
--quick), run by `tacsuite sweep` into OUT/sweep/ (resumable: a rerun keeps finished
trials; `tacsuite report OUT/sweep --metric eval_return` gives the generic report).
Writes OUT/{result.json, table.md, mbrcsl_table.png, bellman_width.png}: IQM of
evaluation return and success rate over seeds with 95% stratified-bootstrap CIs, and the
Bellman-completeness width experiment of tacsuite.theory.bellman_completeness. The MBRCSL
row lists the rollouts kept per seed: 0 means the filter kept nothing and the run fell
back to plain RCSL on the dataset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.commands import sweep  # noqa: E402
from tacsuite.common import atomic, plots, stats, sweepspec  # noqa: E402
from tacsuite.theory import bellman_completeness  # noqa: E402

SPECS = Path(__file__).resolve().parent / "sweeps"
LABELS = {"bc": "BC", "pbc": "%BC (10%)", "rcsl": "RCSL", "dt-lite": "DT-lite",
          "iql": "IQL", "mbrcsl": "MBRCSL"}


def sweep_spec(args) -> dict:
    """The shipped spec with the command line's choices applied."""
    spec = sweepspec.load(SPECS / f"reproduce_mbrcsl{'_quick' if args.quick else ''}.yaml")
    algos = spec["algo"] if isinstance(spec["algo"], dict) else {a: {} for a in spec["algo"]}
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods \
        else list(algos)
    for m in methods:
        if m not in algos:
            raise SystemExit(f"unknown method {m!r}; choose from {', '.join(algos)}")
    algos = {m: dict(algos[m]) for m in methods}
    if "mbrcsl" in algos:
        algos["mbrcsl"].update(behavior_temperature=args.behavior_temperature,
                               margin=args.margin)
    spec["algo"] = algos
    spec["options"].update(env=args.env, dataset=args.dataset,
                           eval_episodes=args.eval_episodes)
    if args.seeds is not None:
        spec["seeds"] = list(range(args.seeds))
    return spec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=None, help="seeds per method (spec: 5, 2)")
    p.add_argument("--methods", default="", help="comma-separated subset (default all)")
    p.add_argument("--env", default="tacsuite/GridStitch-v0", help="evaluation env id")
    p.add_argument("--dataset", default="gridstitch-mixed", help="named dataset")
    p.add_argument("--eval-episodes", type=int, default=20, help="episodes per evaluation")
    p.add_argument("--out", default="runs/reproduce_mbrcsl", help="output folder")
    p.add_argument("--quick", action="store_true", help="2 seeds and small budgets")
    p.add_argument("--behavior-temperature", type=float, default=1.0,
                   help="MBRCSL rollout action-noise scale (3 for PointMazeStitch)")
    p.add_argument("--margin", type=float, default=0.0,
                   help="MBRCSL keeps rollouts above the dataset best + margin")
    p.add_argument("--workers", type=int, default=1, help="trials run at once")
    p.add_argument("--engine", choices=["local", "ray"], default="local")
    args = p.parse_args(argv)
    out = Path(args.out)
    t0 = time.perf_counter()
    spec = sweep_spec(args)
    sweep.write_spec(out / "spec.json", spec, out / "sweep")
    status = sweep.main([str(out / "spec.json"), "--out", str(out / "sweep"), "--engine",
                         args.engine, "--workers", str(args.workers)], "reproduce_mbrcsl")
    if status != 0:
        raise SystemExit(f"some trials failed (see {out / 'sweep' / 'failed'}/); fix the "
                         f"cause, run `tacsuite sweep {out / 'spec.json'} --out "
                         f"{out / 'sweep'} --retry-failed`, then this script again")
    runs: dict[str, list[dict]] = {}
    for t in sweepspec.trials(spec):
        runs.setdefault(t.algo, []).append(atomic.read_json(out / "sweep" / t.name /
                                                            "result.json"))
    methods, seeds = list(runs), len(spec["seeds"])
    dataset_max = runs[methods[0]][0]["dataset_max_return"]
    table = {}
    for m, rs in runs.items():
        ret = [r["eval_return"] for r in rs]
        suc = [r["success_rate"] for r in rs]
        table[m] = {"return": stats.iqm_ci(ret), "success": stats.iqm_ci(suc),
                    "returns": ret, "successes": suc,
                    "normalized": stats.iqm_ci([r["normalized_score"] for r in rs]),
                    "seconds_mean": float(np.mean([r["seconds"] for r in rs])),
                    "kept_rollouts": [r.get("kept_rollouts") for r in rs]}
    env_name = args.env.split("/")[-1]
    lines = [f"{env_name}, dataset `{args.dataset}` (best dataset return "
             f"{dataset_max:.1f}), {seeds} seeds, IQM [95% CI]", "",
             "| method | return | success | normalized | s/run | kept rollouts |",
             "|---|---|---|---|---|---|"]
    for m, row in table.items():
        r, s, nz = row["return"], row["success"], row["normalized"]
        lines.append(f"| {LABELS[m]} | {r['iqm']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}] "
                     f"| {s['iqm']:.2f} [{s['ci_low']:.2f}, {s['ci_high']:.2f}] "
                     f"| {nz['iqm']:.0f} | {row['seconds_mean']:.0f} | "
                     f"{'/'.join(str(k) for k in row['kept_rollouts']) if m == 'mbrcsl' else ''} |")
    text = "\n".join(lines)
    print(text)
    width = bellman_completeness.width_experiment(
        sizes=(8, 16, 32) if args.quick else (8, 16, 32, 64, 128), seeds=3 if args.quick else 5)
    atomic.write_text(out / "table.md", text + "\n")
    _plot_table(out, table, dataset_max, env_name)
    _plot_width(out, width)
    atomic.write_json(out / "result.json", {
        "table": table, "dataset_max_return": dataset_max, "seeds": seeds, "quick": args.quick,
        "behavior_temperature": args.behavior_temperature, "margin": args.margin,
        "bellman_width": width, "seconds": time.perf_counter() - t0,
        "png": ["mbrcsl_table.png", "bellman_width.png"]})
    print(f"wrote {out}/result.json, table.md, mbrcsl_table.png, bellman_width.png")
    return 0


def _plot_table(out: Path, table: dict, dataset_max: float, env_name: str) -> None:
    fig, axes = plots.figure(ncols=2, width=5)
    for ax, key, title in ((axes[0, 0], "return", "evaluation return"),
                           (axes[0, 1], "success", "success rate")):
        names = list(table)
        mid = np.array([table[m][key]["iqm"] for m in names])
        err = np.array([[mid[i] - table[m][key]["ci_low"], table[m][key]["ci_high"] - mid[i]]
                        for i, m in enumerate(names)]).T
        ax.bar(range(len(names)), mid, yerr=err, capsize=3,
               color=plots.PALETTE[: len(names)])
        ax.set_xticks(range(len(names)), [LABELS[m] for m in names], rotation=30)
        ax.set_title(f"{env_name}: {title} (IQM, 95% CI)")
        if key == "return":
            ax.axhline(dataset_max, color="k", ls="--", lw=1, label="best dataset return")
            ax.legend(fontsize=8)
    atomic.savefig(out / "mbrcsl_table.png", fig)
    plots.close(fig)


def _plot_width(out: Path, width: dict) -> None:
    fig, axes = plots.figure(width=5.5)
    ax = axes[0, 0]
    n = np.array(width["sizes"])
    for key, label, color in (("fqi_width", "Bellman-complete class (FQI)", plots.PALETTE[1]),
                              ("rcsl_width", "RCSL policy (same as Q*)", plots.PALETTE[0]),
                              ("q_star_width", "Q* (realizability)", plots.PALETTE[2])):
        w = np.array(width[key], dtype=float)
        style = "s:" if key == "rcsl_width" else "o-"  # RCSL and Q* coincide at 0
        ax.plot(n, np.median(w, 1), style, label=label, color=color, ms=8 if key ==
                "rcsl_width" else 5)
        ax.fill_between(n, w.min(1), w.max(1), alpha=0.2, color=color, linewidth=0)
    ax.plot(n, width["lower_bound"], "k--", lw=1, label="lower bound |S| - 2")
    ax.set_xlabel("|S|")
    ax.set_ylabel("hidden units needed (2-layer ReLU)")
    ax.set_title("Bellman completeness needs width ~ |S|")
    ax.legend(fontsize=8)
    atomic.savefig(out / "bellman_width.png", fig)
    plots.close(fig)


if __name__ == "__main__":
    sys.exit(main())
