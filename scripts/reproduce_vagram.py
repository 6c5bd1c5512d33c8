"""VaGraM vs MLE vs MSE inside MBPO, and model-free SAC, on Pendulum with distractors.

Return (10 evaluation episodes) against the number of distractor dimensions and the
model size, IQM over seeds with 95% stratified-bootstrap intervals, as in Voelcker et al.
(ICLR 2022, Figs. on distractors and small models; theirs on Hopper, this on Pendulum,
which is CPU-sized). SAC has no model, so it runs once per distractor count and seed and
is drawn in every model-size panel.

    python scripts/reproduce_vagram.py [--quick] [--distractors 0,5,10,15]
        [--models 64x2,200x4] [--algos vagram,mle,mse,sac] [--seeds 5] [--steps 5000]
        [--set key=value,...]

`--set` overrides `tacsuite train mbpo-*` options for every run (e.g. updates_per_step=2).
Runs already finished under --out are reused, so an interrupted grid continues.
`--quick`: distractors 0,10, the 64x2 model, 2 seeds, 2,000 steps.
Writes runs/reproduce_vagram/reproduce.json and reproduce.png.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents import mbpo  # noqa: E402
from tacsuite.common import atomic, plots, stats  # noqa: E402
from tacsuite.common.cliargs import parse_kwargs  # noqa: E402

PRESETS = {"vagram": mbpo.VagramConfig, "mle": mbpo.MLEConfig, "mse": mbpo.MSEConfig,
           "sac": mbpo.SACConfig}


def _models(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        width, _, layers = part.partition("x")
        if not (width.isdigit() and layers.isdigit()):
            raise SystemExit(f"--models: {part!r} is not WIDTHxLAYERS (e.g. 64x2)")
        out.append((int(width), int(layers)))
    return out


def run_one(algo: str, d: int, model: tuple[int, int] | None, seed: int, steps: int,
            extra: dict, root: Path) -> dict:
    name = f"{algo}_d{d}" + (f"_{model[0]}x{model[1]}" if model else "") + f"_s{seed}"
    out = root / "runs" / name
    if (out / "result.json").is_file():
        return atomic.read_json(out / "result.json")
    kw = dict(env="tacsuite/PendulumDistractor-v0", env_kwargs=f"distractors={d}",
              seed=seed, steps=steps, out=str(out), overwrite=True, **extra)
    if model:
        kw.update(model_width=model[0], model_layers=model[1])
    result = mbpo.train(PRESETS[algo](**kw))
    print(f"{name}: eval return {result['eval_return']:.1f} ({result['seconds']:.0f} s)",
          flush=True)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--distractors", default="0,5,10,15")
    p.add_argument("--models", default="64x2,200x4")
    p.add_argument("--algos", default="vagram,mle,mse,sac")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--set", default="", help="k=v,... overrides for every run")
    p.add_argument("--out", default="runs/reproduce_vagram")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.distractors, a.models, a.seeds, a.steps = "0,10", "64x2", 2, 2000
    ds = [int(x) for x in a.distractors.split(",")]
    models = _models(a.models)
    algos = a.algos.split(",")
    for algo in algos:
        if algo not in PRESETS:
            raise SystemExit(f"--algos: {algo!r} is not one of {sorted(PRESETS)}")
    extra = parse_kwargs(a.set)
    if a.quick:
        extra = {"start_steps": 500, "rollout_schedule": (500, 2000, 1, 2), **extra}
    root = Path(a.out)
    cells = []
    for d in ds:
        for seed in range(a.seeds):
            for algo in algos:
                for model in ([None] if algo == "sac" else models):
                    r = run_one(algo, d, model, seed, a.steps, extra, root)
                    cells.append({"algo": algo, "distractors": d,
                                  "model": None if model is None else f"{model[0]}x{model[1]}",
                                  "seed": seed, "eval_return": r["eval_return"],
                                  "curve": r["curve"], "seconds": r["seconds"]})
    table = []
    for algo in algos:
        for d in ds:
            for model in ([None] if algo == "sac" else [f"{w}x{n}" for w, n in models]):
                scores = [c["eval_return"] for c in cells if c["algo"] == algo
                          and c["distractors"] == d and c["model"] == model]
                table.append({"algo": algo, "distractors": d, "model": model,
                              **stats.iqm_ci(np.array(scores)), "scores": scores})
    report = {"config": {"distractors": ds, "models": a.models, "algos": algos,
                         "seeds": a.seeds, "steps": a.steps, "overrides": extra,
                         "quick": a.quick},
              "table": table, "runs": cells}
    atomic.write_json(root / "reproduce.json", report)
    _plot(report, root / "reproduce.png", ds, [f"{w}x{n}" for w, n in models], algos)
    print(f"{'algo':8s} {'D':>3s} {'model':>6s}  IQM return [95% CI]  (n)")
    for row in table:
        print(f"{row['algo']:8s} {row['distractors']:3d} {row['model'] or '-':>6s}  "
              f"{row['iqm']:8.1f} [{row['ci_low']:.1f}, {row['ci_high']:.1f}]  ({row['n']})")
    print(f"-> {root / 'reproduce.json'}")
    return 0


def _plot(report: dict, path: Path, ds, models, algos) -> None:
    fig, axes = plots.figure(ncols=len(models), width=4.4, layout="constrained")
    for j, model in enumerate(models):
        ax = axes[0, j]
        for i, algo in enumerate(algos):
            rows = [r for r in report["table"] if r["algo"] == algo
                    and r["model"] == (None if algo == "sac" else model)]
            rows.sort(key=lambda r: r["distractors"])
            x = [r["distractors"] for r in rows]
            style = plots.series_style(i, len(algos))
            ax.plot(x, [r["iqm"] for r in rows], label=algo if j == 0 else None, **style)
            ax.fill_between(x, [r["ci_low"] for r in rows], [r["ci_high"] for r in rows],
                            color=style["color"], alpha=0.15, linewidth=0)
        ax.set_xticks(ds)
        ax.set_xlabel("distractor dimensions")
        ax.set_ylabel("return (IQM over seeds, 95% CI)")
        ax.set_title(f"model {model} (SAC: no model), {report['config']['steps']} steps",
                     fontsize=9)
    plots.legend_below(fig, ncol=len(algos))
    fig.savefig(path, dpi=120)
    plots.close(fig)


if __name__ == "__main__":
    sys.exit(main())
