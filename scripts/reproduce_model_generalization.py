"""Learning curves of ER-DQN, model-DQN and perfect-model-DQN on ProcMaze, ButtonGrid and
PanFlute (after Young et al., ICML 2023, Figure 4), in a configuration sized for a CPU.

    python scripts/reproduce_model_generalization.py            # 5 seeds (see README for time)
    python scripts/reproduce_model_generalization.py --quick    # 2 seeds, 1500 steps each
    python scripts/reproduce_model_generalization.py --resume   # keep finished runs

CPU-sized configuration (the paper's in brackets): PanFlute 3 pipes [5], ProcMaze grid 4
[4] and ButtonGrid grid 5 with 2 buttons [10, 3], each for 4,000 env steps [1M high-data,
100k low-data] (`--steps` or ENVS to change), 1 Q update per step after 1,000 exploration
steps;
Q and model (64, 64) ELU [3 x 200]; gamma 0.9, target copy every 100 steps, AdamW (0.9,
0.99, eps 1e-5, wd 1e-6) as the paper. All three agents share the Q step size and
softmax temperature of an env (the paper tuned them per agent for 1M steps); model-DQN's
model learns at 1e-3 from the first step and its rollouts take each bit's most likely
value.
ER-DQN replays 320 real transitions per update, the model agents learn from 32 x 10
rollout transitions: equal updates, equal Q batch.

Writes runs/reproduce_model_generalization/{result.json, table.md, learning_curves.png}:
greedy-evaluation curves with IQM and 95% stratified-bootstrap bands over seeds, and the
final score (mean of the last quarter of the evaluations) per env and agent. The score is
the average reward per step on the continuing ButtonGrid and PanFlute and the return of
an episode capped at 100 steps on ProcMaze.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents import er_dqn, model_dqn, perfect_model_dqn  # noqa: E402
from tacsuite.common import atomic, plots, stats  # noqa: E402

AGENTS = {"er-dqn": er_dqn, "model-dqn": model_dqn, "perfect-model-dqn": perfect_model_dqn}
LABELS = {"er-dqn": "ER-DQN (batch 320)", "model-dqn": "model-DQN (learned model)",
          "perfect-model-dqn": "perfect-model-DQN"}
ENVS = {  # run and plotted in this order; `steps` is each env's default budget
    "PanFlute": dict(env="tacsuite/PanFlute-v0", env_kwargs="num_pipes=3", temperature=0.4,
                     steps=4000),
    "ProcMaze": dict(env="tacsuite/ProcMaze-v0", env_kwargs="grid_size=4", temperature=0.4,
                     steps=4000),
    "ButtonGrid": dict(env="tacsuite/ButtonGrid-v0", env_kwargs="grid_size=5,num_buttons=2",
                       temperature=0.4, steps=4000),
}
COMMON = dict(hidden=(64, 64), lr=2e-4, gamma=0.9, target_every=100, eval_steps=100,
              eval_episodes=8)
PER_AGENT: dict[str, dict] = {"model-dqn": dict(model_lr=1e-3, next_obs="mode")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="seeds per env and agent")
    p.add_argument("--steps", type=int, default=None,
                   help="env steps per run (default: each env's budget in ENVS)")
    p.add_argument("--start-steps", type=int, default=1000,
                   help="exploration steps before the first Q update")
    p.add_argument("--envs", default=",".join(ENVS), help="comma-separated subset")
    p.add_argument("--agents", default=",".join(AGENTS), help="comma-separated subset")
    p.add_argument("--out", default="runs/reproduce_model_generalization", help="output folder")
    p.add_argument("--quick", action="store_true", help="2 seeds, 1500 steps, 500 warm-up")
    p.add_argument("--resume", action="store_true",
                   help="reuse runs whose result.json exists (same settings assumed)")
    args = p.parse_args(argv)
    seeds, steps = (2, 1500) if args.quick else (args.seeds, args.steps)
    budgets = {e: steps or ENVS[e]["steps"] for e in ENVS}
    envs, agents = _subset(args.envs, ENVS), _subset(args.agents, AGENTS)
    if seeds < 1 or min(budgets.values()) < 1:
        raise SystemExit(f"--seeds and --steps must be >= 1, got {seeds}, {steps}")
    out = Path(args.out)
    t0 = time.perf_counter()
    results: dict[str, dict[str, list[dict]]] = {}
    for env_name in envs:
        for agent in agents:
            for seed in range(seeds):
                run_dir = out / "runs" / f"{env_name}_{agent}_s{seed}"
                if args.resume and (run_dir / "result.json").is_file():
                    r = json.loads((run_dir / "result.json").read_text())
                else:
                    n = budgets[env_name]
                    kw = {**COMMON, **ENVS[env_name], **PER_AGENT.get(agent, {}),
                          "steps": n, "seed": seed, "out": str(run_dir),
                          "start_steps": 500 if args.quick else args.start_steps,
                          "eval_every": max(n // 16, 1)}
                    r = AGENTS[agent].train(AGENTS[agent].Config(**kw))
                results.setdefault(env_name, {}).setdefault(agent, []).append(r)
                print(f"{env_name:10s} {agent:18s} seed {seed}: final {r['final_score']:8.3f}"
                      f"  ({r['seconds']:.0f}s)", flush=True)
    table = _table(results)
    text = _markdown(table, seeds)
    print(text)
    atomic.write_text(out / "table.md", text + "\n")
    _plot(out, results)
    atomic.write_json(out / "result.json", {
        "table": table, "seeds": seeds, "steps": {e: budgets[e] for e in envs},
        "quick": args.quick,
        "start_steps": 500 if args.quick else args.start_steps,
        "config": {"common": COMMON, "envs": ENVS, "per_agent": PER_AGENT},
        "wall_seconds": time.perf_counter() - t0, "png": ["learning_curves.png"]})
    print(f"wrote {out}/result.json, table.md, learning_curves.png "
          f"({time.perf_counter() - t0:.0f}s)")
    return 0


def _subset(text: str, allowed: dict) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    for n in names:
        if n not in allowed:
            raise SystemExit(f"unknown name {n!r}; choose from {', '.join(allowed)}")
    return names


def _table(results: dict) -> dict:
    table: dict[str, dict] = {}
    for env_name, by_agent in results.items():
        for agent, rs in by_agent.items():
            finals = [r["final_score"] for r in rs]
            table.setdefault(env_name, {})[agent] = {
                "final": stats.iqm_ci(finals), "finals": finals,
                "mean_over_training": stats.iqm_ci([r["mean_score"] for r in rs]),
                "metric": rs[0]["metric"], "updates": rs[0]["updates"],
                "seconds_mean": float(np.mean([r["seconds"] for r in rs]))}
    return table


def _markdown(table: dict, seeds: int) -> str:
    lines = [f"{seeds} seeds; final score = mean of the last quarter of the greedy "
             "evaluations, IQM [95% CI]", "",
             "| env | agent | final score | mean over training | updates | s/run |",
             "|---|---|---|---|---|---|"]
    for env_name, by_agent in table.items():
        for agent, row in by_agent.items():
            f, m = row["final"], row["mean_over_training"]
            lines.append(f"| {env_name} ({row['metric']}) | {agent} | {f['iqm']:.3f} "
                         f"[{f['ci_low']:.3f}, {f['ci_high']:.3f}] | {m['iqm']:.3f} | "
                         f"{row['updates']} | {row['seconds_mean']:.0f} |")
    return "\n".join(lines)


def _plot(out: Path, results: dict) -> None:
    fig, axes = plots.figure(ncols=len(results), width=4.6, height=3.8)
    for ax, (env_name, by_agent) in zip(axes[0], results.items(), strict=True):
        for i, (agent, rs) in enumerate(by_agent.items()):
            x = np.array(rs[0]["eval_steps_at"])
            curves = np.array([r["eval_curve"] for r in rs])
            plots.iqm_band(ax, x, curves, LABELS[agent], plots.PALETTE[i])
        metric = next(iter(by_agent.values()))[0]["metric"]
        ax.set_title(f"{env_name} ({ENVS[env_name]['env_kwargs']})", fontsize=10)
        ax.set_xlabel("env steps (= Q updates + warm-up)")
        ax.set_ylabel("greedy average reward" if metric == "reward_rate"
                      else "greedy return (cap 100)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    atomic.savefig(out / "learning_curves.png", fig)
    plots.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
