"""Reproduce the tactile-task comparison: gradients (state loss), gradients (state +
tactile loss), CMA-ES (state loss) at the same wall-clock budget, and PPO, per task and
seed. Every open-loop plan is scored by the task's state loss and success on the nominal
episode; PPO by the return and success of its last episodes. IQM over seeds with 95%
stratified-bootstrap intervals; curves of the best loss against wall-clock.

Writes runs/reproduce_tactile_tasks/result.json and reproduce_tactile_tasks.png.
`--quick`: two tasks, two seeds, short horizons and budgets.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

TASKS = {"SurfaceFollow": "tacsuite/SurfaceFollow-v0", "ObjectRepose": "tacsuite/ObjectRepose-v0",
         "CaseOpen": "tacsuite/CaseOpen-v0", "TactileGrasp": "tacsuite/TactileGrasp-v1",
         "CableStraighten": "tacsuite/CableStraighten-v1"}
METHODS = ("grad-state", "grad-state+tactile", "cmaes")


def on_grid(curve, grid):
    """Best loss so far at each grid time (the first value before the first point)."""
    s, v = np.asarray(curve.seconds), np.asarray(curve.loss)
    idx = np.searchsorted(s, grid, side="right") - 1
    return v[np.clip(idx, 0, len(v) - 1)]


def plot(result: dict, path) -> None:
    """Best loss so far against wall-clock, IQM with bands, one panel per task."""
    from tacsuite.common import atomic, plots

    tasks = {k: v for k, v in result["tasks"].items() if "grid_s" in v}
    if not tasks:
        return
    fig, axes = plots.figure(ncols=len(tasks), width=3.8, height=3.4, layout="constrained")
    for col, (name, summary) in enumerate(tasks.items()):
        ax = axes[0, col]
        for i, m in enumerate(METHODS):
            style = plots.series_style(i, len(METHODS))
            plots.iqm_band(ax, np.asarray(summary["grid_s"]), np.asarray(summary[m]["curves"]),
                           m, **{**style, "markevery": 7})
        ax.set_yscale("log")
        ax.set_xlabel("wall-clock (s)")
        ax.set_ylabel("best loss so far (own loss)")
        ax.set_title(name, fontsize=10)
        if col == 0:
            plots.legend_below(fig, ncol=3)
    atomic.savefig(path, fig)
    plots.close(fig)


def main() -> None:
    from tacsuite.agents import cmaes, trajopt
    from tacsuite.agents.common.openloop import replay, task_of
    from tacsuite.common import atomic, stats

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", nargs="*", default=list(TASKS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per method and seed")
    ap.add_argument("--horizon", type=int, default=40)
    ap.add_argument("--ppo-steps", type=int, default=2000)
    ap.add_argument("--chains", type=int, default=16,
                    help="grad: Adam chains side by side in the batch axis (multi-start)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="runs/reproduce_tactile_tasks")
    ap.add_argument("--merge", nargs="*", default=None,
                    help="result.json files of earlier runs to merge into --out and plot")
    args = ap.parse_args()
    if args.merge is not None:
        merged = {}
        for p in args.merge:
            r = atomic.read_json(p)
            merged = {**r, "tasks": {**merged.get("tasks", {}), **r["tasks"]}}
        atomic.write_json(Path(args.out) / "result.json", merged)
        plot(merged, Path(args.out) / "reproduce_tactile_tasks.png")
        return
    if args.quick:
        args.tasks, args.seeds, args.budget = args.tasks[:2], 2, 10.0
        args.horizon, args.ppo_steps = 15, 256
    out = Path(args.out)
    grid = np.linspace(0, args.budget, 50)
    result = {"budget_s": args.budget, "horizon": args.horizon, "seeds": args.seeds,
              "ppo_steps": args.ppo_steps, "grad_chains": args.chains, "tasks": {}}
    from tacsuite.sim.backend import ensure_init, is_initialized, shutdown
    for name in args.tasks:
        # A fresh compiler runtime per task: Taichi 1.7.4 on the CPU segfaulted once the
        # worlds of four tasks (grad chains, CMA-ES populations, PPO envs) had piled up
        # in one runtime; the task's shared worlds are rebuilt on the new one.
        if is_initialized():
            shutdown()
            ensure_init()
        task = task_of(TASKS[name], {"horizon": args.horizon})
        per = {m: {"state_loss": [], "success": [], "curves": []} for m in METHODS}
        for seed in range(args.seeds):
            for m in METHODS:
                t0 = time.perf_counter()
                if m == "cmaes":
                    curve, best = cmaes.run(task, args.budget, "state", seed=seed)
                else:
                    kind = "state" if m == "grad-state" else "both"
                    curve, best = trajopt.run(task, args.budget, kind, seed=seed,
                                              chains=args.chains)
                ev = task.rollout(best, kind="state", grad=False)
                rep = replay(task, best)
                per[m]["state_loss"].append(float(ev.loss))
                per[m]["success"].append(bool(rep["success"]))
                if "slip" in rep:
                    per[m].setdefault("slip_m", []).append(rep["slip"])
                per[m]["curves"].append(on_grid(curve, grid).tolist())
                print(f"{name} {m} seed {seed}: state loss {ev.loss:.4g}, "
                      f"{len(curve.loss)} iterations, {time.perf_counter() - t0:.0f} s")
        from tacsuite.agents import ppo

        ppo_ret, ppo_succ = [], []
        for seed in range(args.seeds):
            r = ppo.train(ppo.Config(env=TASKS[name], env_kwargs=f"horizon={args.horizon}",
                                     steps=args.ppo_steps, n_envs=8, seed=seed, out=""))
            ppo_ret.append(r["return"] if r["return"] is not None else float("nan"))
            ppo_succ.append(r["success"])
            print(f"{name} ppo seed {seed}: return {r['return']}, success {r['success']}")
        summary = {"grid_s": grid.tolist()}
        for m in METHODS:
            losses = np.asarray(per[m]["state_loss"])
            summary[m] = {"state_loss_iqm": stats.iqm(losses), "ci": stats.iqm_ci(losses),
                          "success_rate": float(np.mean(per[m]["success"])),
                          "state_loss": losses.tolist(), "curves": per[m]["curves"]}
            if "slip_m" in per[m]:
                summary[m]["slip_m"] = per[m]["slip_m"]
        summary["ppo"] = {"return": ppo_ret, "success_rate": float(np.nanmean(ppo_succ)),
                          "return_iqm": stats.iqm(np.asarray(ppo_ret))}
        result["tasks"][name] = summary
        atomic.write_json(out / "result.json", result)   # after every task: partial runs count
    plot(result, out / "reproduce_tactile_tasks.png")
    for name, s in result["tasks"].items():
        line = ", ".join(f"{m} loss {s[m]['state_loss_iqm']:.3g} success "
                         f"{s[m]['success_rate']:.2f}" for m in METHODS)
        print(f"{name}: {line}; ppo return {s['ppo']['return_iqm']:.2f}")
    print(f"-> {out}/result.json")


if __name__ == "__main__":
    main()
