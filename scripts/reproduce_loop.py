"""Reproduce the average-reward comparison: LOOP against UCRL2, PSRL, optimistic
Q-learning and discounted LSVI on three continuing MDPs.

For every (env, agent) pair, `--seeds` independent streams of `--steps` steps:

- RiverSwim-6, a Garnet (S=10, A=3, branching 3, instance 0): model-based LOOP, UCRL2
  (textbook widths), PSRL, optimistic Q-learning;
- the linear AMDP (S=20, A=4, d=5, instance 0): value-based LOOP, model-based LOOP
  (tabular and linear-mixture), discounted LSVI and the three tabular baselines.

Regret is T J* - sum of rewards against the exact optimal gain (relative value iteration
on the env's P and R). Curves are IQM with 95% stratified-bootstrap bands over seeds on
log-log axes; switches (policy changes) are plotted against log t with the fit
switches ~ a + b ln t. The Quality checks of model-based LOOP on RiverSwim-6 are
evaluated at the end. Writes runs/reproduce_loop/result.json and loop.png.

    .venv/bin/python scripts/reproduce_loop.py                  # ~10 min on one core
    .venv/bin/python scripts/reproduce_loop.py --steps 10000 --seeds 3   # ~1 min
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

from tacsuite.agents import loop, lsvi_disc, optimistic_q, psrl, ucrl2  # noqa: E402
from tacsuite.common import atomic, plots, stats  # noqa: E402

AGENTS = {
    "loop": (loop, {}),
    "loop-model": (loop, {"variant": "model"}),
    "loop-mixture": (loop, {"variant": "mixture"}),
    "ucrl2": (ucrl2, {}),
    "psrl": (psrl, {}),
    "optimistic-q": (optimistic_q, {}),
    "lsvi-disc": (lsvi_disc, {}),
}
TABULAR = ["loop", "ucrl2", "psrl", "optimistic-q"]
ENVS = {
    "RiverSwim-6": ("tacsuite/RiverSwim-v0", "n_states=6", TABULAR),
    "Garnet-10x3": ("tacsuite/RandomAMDP-v0",
                    "n_states=10,n_actions=3,branching=3,instance_seed=0", TABULAR),
    "LinearAMDP-20x4-d5": ("tacsuite/LinearAMDP-v0",
                           "n_states=20,n_actions=4,d=5,instance_seed=0",
                           ["loop", "loop-model", "loop-mixture", "lsvi-disc", "ucrl2",
                            "psrl", "optimistic-q"]),
}


def one_run(env_id: str, env_kwargs: str, agent: str, steps: int, seed: int,
            grid: np.ndarray) -> dict:
    mod, opts = AGENTS[agent]
    t0 = time.perf_counter()
    out = mod.run(mod.Config(env=env_id, env_kwargs=env_kwargs, steps=steps, seed=seed,
                             out="", **opts))
    J = out.result["gain_star"]
    cum = np.cumsum(out.rewards)
    return {"agent": agent, "seed": seed, "gain_star": J,
            "regret": grid * J - cum[grid - 1],
            "switches": np.searchsorted(out.switches, grid, side="right"),
            "replans": out.result["replans"], "seconds": time.perf_counter() - t0,
            "optimistic_fraction": out.result.get("optimistic_fraction")}


def log_fit(t: np.ndarray, y: np.ndarray) -> dict:
    """Least-squares fit y ~ a + b ln t with its R^2."""
    X = np.stack([np.ones_like(t, dtype=float), np.log(t)], 1)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    tot = np.sum((y - y.mean()) ** 2)
    return {"a": float(coef[0]), "b_per_log_t": float(coef[1]),
            "r2": float(1 - resid @ resid / tot) if tot > 0 else 1.0}


def summarise(runs: list[dict], grid: np.ndarray, steps: int) -> dict:
    reg = np.stack([r["regret"] for r in runs])
    sw = np.stack([r["switches"] for r in runs]).astype(float)
    out = {"seeds": len(runs), "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
           "replans_iqm": stats.iqm([r["replans"] for r in runs])}
    for T in sorted({min(10_000, steps), steps}):
        j = int(np.searchsorted(grid, T))
        out[f"regret_at_{T}"] = stats.iqm_ci(reg[:, j])
        out[f"regret_per_step_at_{T}"] = out[f"regret_at_{T}"]["iqm"] / T
        out[f"switches_at_{T}"] = stats.iqm_ci(sw[:, j])
    mid = np.array([stats.iqm(sw[:, j]) for j in range(grid.size)])
    keep = grid >= min(1000, steps // 10)
    out["switch_fit"] = log_fit(grid[keep], mid[keep])
    fr = [r["optimistic_fraction"] for r in runs if r["optimistic_fraction"] is not None]
    if fr:
        out["optimistic_fraction_iqm"] = stats.iqm(fr)
    return out


def quality(summary: dict, steps: int) -> dict:
    river = summary.get("RiverSwim-6", {}).get("agents", {})
    if "loop" not in river or "ucrl2" not in river or steps < 100_000:
        return {}
    lp, uc = river["loop"], river["ucrl2"]
    return {
        "loop_regret_per_step_1e5_over_1e4": lp["regret_per_step_at_100000"]
        / lp["regret_per_step_at_10000"],
        "loop_over_ucrl2_regret_per_step_1e5": lp["regret_per_step_at_100000"]
        / uc["regret_per_step_at_100000"],
        "loop_switches_1e5": lp["switches_at_100000"]["iqm"],
        "sublinear_pass": lp["regret_per_step_at_100000"]
        <= 0.5 * lp["regret_per_step_at_10000"],
        "beats_half_ucrl2_pass": lp["regret_per_step_at_100000"]
        <= 0.5 * uc["regret_per_step_at_100000"],
        "fewer_than_200_switches_pass": lp["switches_at_100000"]["iqm"] < 200,
    }


def plot(curves: dict, grid: np.ndarray, summary: dict, path: Path) -> None:
    names = list(curves)
    fig, axes = plots.figure(ncols=len(names), nrows=2, width=5.2, height=3.9)
    colors = dict(zip(["loop", "loop-model", "ucrl2", "psrl", "optimistic-q", "lsvi-disc",
                       "loop-mixture"], plots.PALETTE[:6] + [plots.PALETTE[7]], strict=True))
    for k, env in enumerate(names):
        ax_r, ax_s = axes[0, k], axes[1, k]
        for agent, runs in curves[env].items():
            reg = np.maximum(np.stack([r["regret"] for r in runs]), 1.0)
            plots.iqm_band(ax_r, grid, reg, agent, color=colors[agent])
            sw = np.stack([r["switches"] for r in runs]).astype(float)
            plots.iqm_band(ax_s, grid, np.maximum(sw, 0.5), agent, color=colors[agent])
        ax_r.set_xscale("log")
        ax_r.set_yscale("log")
        ax_r.set_title(f"{env}  (J* = {summary[env]['gain_star']:.4f})", fontsize=10)
        ax_r.set_xlabel("step t")
        ax_r.set_ylabel("regret  t J* - sum r  (floored at 1)")
        ax_s.set_xscale("log")
        ax_s.set_yscale("log")
        ax_s.set_xlabel("step t")
        ax_s.set_ylabel("policy switches")
        ax_r.legend(fontsize=7, loc="upper left")
        ax_s.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    atomic.savefig(path, fig)
    plots.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    ap.add_argument("--envs", default=",".join(ENVS), help="comma-separated subset of "
                    + ", ".join(ENVS))
    ap.add_argument("--agents", default="", help="comma-separated subset of "
                    + ", ".join(AGENTS) + " (default: each env's list)")
    ap.add_argument("--out", default="runs/reproduce_loop")
    args = ap.parse_args()
    envs = [e.strip() for e in args.envs.split(",") if e.strip()]
    only = [a.strip() for a in args.agents.split(",") if a.strip()]
    bad = [e for e in envs if e not in ENVS] + [a for a in only if a not in AGENTS]
    if bad or args.steps < 100 or args.seeds < 1:
        ap.error(f"need --steps >= 100, --seeds >= 1 and --envs among {list(ENVS)}; "
                 f"and --agents among {list(AGENTS)}; got steps={args.steps}, "
                 f"seeds={args.seeds}, unknown names {bad}")
    lists = {e: [a for a in ENVS[e][2] if not only or a in only] for e in envs}
    grid = np.unique(np.concatenate([np.geomspace(10, args.steps, 60).astype(int),
                                     [min(10_000, args.steps), args.steps]]))
    t0 = time.perf_counter()
    tasks = [(e, a, s) for e in envs for a in lists[e] for s in range(args.seeds)]
    results = Parallel(n_jobs=args.jobs)(
        delayed(one_run)(ENVS[e][0], ENVS[e][1], a, args.steps, s, grid) for e, a, s in tasks)
    curves: dict[str, dict[str, list[dict]]] = {}
    for (e, a, _), r in zip(tasks, results, strict=True):
        curves.setdefault(e, {}).setdefault(a, []).append(r)
    summary: dict = {}
    for e in envs:
        summary[e] = {"env": ENVS[e][0], "env_kwargs": ENVS[e][1],
                      "gain_star": curves[e][lists[e][0]][0]["gain_star"],
                      "agents": {a: summarise(rs, grid, args.steps)
                                 for a, rs in curves[e].items()}}
    out = Path(args.out)
    plot(curves, grid, summary, out / "loop.png")
    result = {"steps": args.steps, "seeds": args.seeds, "envs": summary,
              "quality": quality(summary, args.steps),
              "seconds": time.perf_counter() - t0}
    atomic.write_json(out / "result.json", result)
    for e in envs:
        for a, s in summary[e]["agents"].items():
            T = args.steps
            print(f"{e:20s} {a:13s} regret@{min(10_000, T)}="
                  f"{s[f'regret_at_{min(10_000, T)}']['iqm']:9.1f}  regret@{T}="
                  f"{s[f'regret_at_{T}']['iqm']:9.1f}  switches@{T}="
                  f"{s[f'switches_at_{T}']['iqm']:8.1f}  "
                  f"switches~{s['switch_fit']['b_per_log_t']:.1f} ln t "
                  f"(R2 {s['switch_fit']['r2']:.2f})")
    for k, v in result["quality"].items():
        print(f"quality {k}: {v}")
    print(f"wrote {out / 'result.json'} and {out / 'loop.png'} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
