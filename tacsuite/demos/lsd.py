"""Demo: LSD bandit planners (lp-rounding, greedy) against the exact optimum."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tacsuite.agents.lsd import exact, greedy, lp_rounding
from tacsuite.agents.lsd.plan import expected_rewards
from tacsuite.common import atomic, plots
from tacsuite.envs.lsd_instance import random_instance, random_steep_instance
from tacsuite.theory.lsd import lp_relaxation


def run(out: Path, instances: int = 20, horizon: int = 300) -> dict:
    fig, axes = plots.figure(ncols=2, width=5.2, layout="constrained")
    inst = random_steep_instance(3, 5, horizon, 4)
    ax = axes[0, 0]
    t = np.arange(1, horizon + 1)
    plans = {"exact optimum": exact.plan(inst), "lp-rounding": lp_rounding.plan(inst, seed=0),
             "greedy": greedy.plan(inst)}
    for (name, p), color in zip(plans.items(), plots.PALETTE, strict=False):
        ax.plot(t, np.cumsum(expected_rewards(inst, p.actions)), color=color, label=name)
    lp = lp_relaxation(inst.satiated, inst.rested)
    ax.plot(t, lp.value * t, "k--", lw=0.8, label="LP bound (rate)")
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative expected reward")
    ax.set_title(f"one steep instance (k={inst.k}, tau_max={inst.tau_max})")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    summary: dict = {"instance_totals": {n: p.expected_reward for n, p in plans.items()}}
    for j, (family, make) in enumerate((("uniform", random_instance),
                                        ("steep", random_steep_instance))):
        lr, gr = [], []
        for i in range(instances):
            rng = np.random.default_rng(500 + i)
            x = make(int(rng.integers(2, 5)), int(rng.integers(2, 6)), horizon, rng)
            opt = exact.plan(x).expected_reward
            lr.append(np.mean([lp_rounding.plan(x, seed=s).expected_reward
                               for s in range(4)]) / opt)
            gr.append(greedy.plan(x).expected_reward / opt)
        jitter = np.linspace(-0.25, 0.25, instances)
        ax.scatter(2 * j + jitter, lr, s=8, color=plots.PALETTE[1],
                   label="lp-rounding" if j == 0 else None)
        ax.scatter(2 * j + 1 + jitter, gr, s=8, color=plots.PALETTE[2],
                   label="greedy" if j == 0 else None)
        summary[family] = {"lp_rounding_worst": float(min(lr)),
                           "lp_rounding_mean": float(np.mean(lr)),
                           "greedy_worst": float(min(gr)), "greedy_mean": float(np.mean(gr))}
    ax.axhline(1 - 1 / np.e, color="k", ls="--", lw=0.8, label="1 - 1/e")
    ax.set_xticks([0, 1, 2, 3], ["uniform\nlp-rnd", "uniform\ngreedy", "steep\nlp-rnd",
                                 "steep\ngreedy"])
    ax.set_ylabel("expected reward / exact optimum")
    ax.set_title(f"{instances} random monotone instances per family")
    ax.legend(fontsize=8)
    atomic.savefig(out / "lsd.png", fig)
    plots.close(fig)
    summary["png"] = "lsd.png"
    return summary
