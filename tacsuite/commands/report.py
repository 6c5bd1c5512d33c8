"""`tacsuite report DIR`: honest statistics of a sweep folder (one run folder a trial).

Groups the finished trials by `--by` (default the algorithm) and gives, per group, the
IQM of `--metric` over seeds with its stratified-bootstrap 95% CI, the learning curves
(pointwise IQM with bands, from each trial's metrics.jsonl), the performance profile
(fraction of runs scoring above each threshold) and the probability of improvement of
each group over each other. Writes DIR/report/report.{json,md,png}; failed and
unfinished trials are listed, never silently dropped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from tacsuite.common import atomic, plots, stats

_DEFAULT_METRICS = ("mean_return", "eval_return")


def _load(out: Path) -> tuple[list[dict], list[dict], list[str]]:
    sweep = out / "sweep.json"
    if not sweep.is_file():
        raise FileNotFoundError(f"{out} is not a sweep folder (no sweep.json); run "
                                "`tacsuite sweep SPEC --out DIR` first")
    names = atomic.read_json(sweep)["trials"]
    done, failed, missing = [], [], []
    for name in names:
        folder = out / name
        if (folder / "result.json").is_file():
            done.append({"trial": name, "result": atomic.read_json(folder / "result.json"),
                         "config": atomic.read_json(folder / "config.json")["config"],
                         "folder": folder})
        elif (out / "failed" / f"{name}.json").is_file():
            failed.append(atomic.read_json(out / "failed" / f"{name}.json"))
        else:
            missing.append(name)
    return done, failed, missing


def _curve(folder: Path, metric: str) -> np.ndarray | None:
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return None
    values = [row[metric] for row in map(json.loads, path.read_text().splitlines())
              if isinstance(row.get(metric), (int, float))]
    return np.asarray(values, dtype=np.float64) if values else None


def prob_improvement(x, y) -> float:
    """P(X > Y) + P(X = Y)/2 for a run X of one group and a run Y of the other."""
    x, y = np.asarray(x, float)[:, None], np.asarray(y, float)[None, :]
    return float(np.mean((x > y) + 0.5 * (x == y)))


def _poi_ci(x, y, reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    x, y = np.asarray(x, float), np.asarray(y, float)
    boot = [prob_improvement(rng.choice(x, x.size), rng.choice(y, y.size)) for _ in range(reps)]
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return prob_improvement(x, y), float(lo), float(hi)


def aggregate(out: Path, metric: str | None, by: str) -> dict:
    done, failed, missing = _load(out)
    if not done:
        raise ValueError(f"{out}: no finished trial to report ({len(failed)} failed, "
                         f"{len(missing)} unfinished)")
    if metric is None:
        metric = next((m for m in _DEFAULT_METRICS if m in done[0]["result"]), None)
        if metric is None:
            raise ValueError("--metric: result.json has none of " + ", ".join(_DEFAULT_METRICS))
    groups: dict[str, list[dict]] = {}
    for t in done:
        value = t["result"].get(metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            numeric = sorted(k for k, v in t["result"].items() if isinstance(v, (int, float)))
            raise ValueError(f"--metric {metric!r}: not a number in {t['trial']}/result.json; "
                             f"numbers there are {', '.join(numeric)}")
        key = t["result"].get(by, t["config"].get(by, "<unset>")) if by != "algo" else \
            t["result"].get("algo", t["trial"].split(",")[0])
        groups.setdefault(str(key), []).append(t)
    summary = {}
    for key, ts in groups.items():
        scores = [t["result"][metric] for t in ts]
        summary[key] = {**stats.iqm_ci(scores), "mean": float(np.mean(scores)),
                        "scores": scores, "trials": [t["trial"] for t in ts]}
    keys = list(summary)
    poi = {f"{a} > {b}": dict(zip(("p", "ci_low", "ci_high"),
                                  _poi_ci(summary[a]["scores"], summary[b]["scores"]),
                                  strict=True))
           for a in keys for b in keys if a != b}
    return {"metric": metric, "by": by, "groups": summary, "prob_improvement": poi,
            "failed": [{"trial": f["trial"], "exit_status": f["exit_status"],
                        "error": f["error"].splitlines()[-1] if f.get("error") else ""}
                       for f in failed],
            "unfinished": missing, "_done": groups}


def markdown(rep: dict) -> str:
    lines = [f"# Sweep report: {rep['metric']} by {rep['by']}", "",
             f"| {rep['by']} | runs | IQM | 95% CI | mean |", "|---|---:|---:|---|---:|"]
    for key, g in rep["groups"].items():
        lines.append(f"| {key} | {g['n']} | {g['iqm']:.4g} | [{g['ci_low']:.4g}, "
                     f"{g['ci_high']:.4g}] | {g['mean']:.4g} |")
    if rep["prob_improvement"]:
        lines += ["", "| probability of improvement | P | 95% CI |", "|---|---:|---|"]
        lines += [f"| {k} | {v['p']:.3f} | [{v['ci_low']:.3f}, {v['ci_high']:.3f}] |"
                  for k, v in rep["prob_improvement"].items()]
    if rep["failed"] or rep["unfinished"]:
        lines += ["", "## Not in the statistics", ""]
        lines += [f"- failed (exit {f['exit_status']}): {f['trial']}: {f['error']}"
                  for f in rep["failed"]]
        lines += [f"- unfinished: {name}" for name in rep["unfinished"]]
    return "\n".join(lines) + "\n"


def draw(rep: dict, path: Path) -> None:
    fig, axes = plots.figure(ncols=3, width=4.4, height=3.6, layout="constrained")
    ax_c, ax_p, ax_b = axes[0]
    n = len(rep["_done"])
    curves_drawn = False
    for i, (key, ts) in enumerate(rep["_done"].items()):
        style = plots.series_style(i, n)
        curves = [c for c in (_curve(t["folder"], rep["metric"]) for t in ts) if c is not None]
        if curves:
            length = min(c.size for c in curves)
            plots.iqm_band(ax_c, np.arange(1, length + 1),
                           np.stack([c[:length] for c in curves]), key, **{
                               **style, "marker": None})
            curves_drawn = True
        scores = np.sort(rep["groups"][key]["scores"])
        all_scores = np.concatenate([g["scores"] for g in rep["groups"].values()])
        taus = np.linspace(all_scores.min(), all_scores.max(), 60)
        ax_p.plot(taus, [(scores > t).mean() for t in taus], color=style["color"],
                  lw=style["lw"], zorder=style["zorder"])
        g = rep["groups"][key]
        err = [[g["iqm"] - g["ci_low"]], [g["ci_high"] - g["iqm"]]]
        ax_b.errorbar([i], [g["iqm"]], yerr=err, fmt="o", color=style["color"], capsize=4)
    ax_c.set(title="learning curve" if curves_drawn else "no curves in metrics.jsonl",
             xlabel="logged step", ylabel=rep["metric"])
    ax_p.set(title="performance profile", xlabel=f"threshold on {rep['metric']}",
             ylabel="fraction of runs above")
    ax_b.set(title="IQM with 95% CI", ylabel=rep["metric"])
    ax_b.set_xticks(range(n), list(rep["_done"]))
    ax_b.set_xlim(-0.5, n - 0.5)
    plots.legend_below(fig, ncol=max(1, n))
    atomic.savefig(path, fig)
    plots.close(fig)


def main(argv: list[str], prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("dir", help="sweep folder written by `tacsuite sweep`")
    parser.add_argument("--metric", default=None,
                        help="number in each result.json (default mean_return or eval_return)")
    parser.add_argument("--by", default="algo", help="option to group trials by (default algo)")
    args = parser.parse_args(argv)
    out = Path(args.dir)
    rep = aggregate(out, args.metric, args.by)
    dest = out / "report"
    dest.mkdir(exist_ok=True)
    text = markdown(rep)
    atomic.write_text(dest / "report.md", text)
    draw(rep, dest / "report.png")
    atomic.write_json(dest / "report.json", {k: v for k, v in rep.items() if k != "_done"})
    print(text + f"-> {dest}/report.{{md,json,png}}")
    return 0
