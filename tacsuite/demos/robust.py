"""Demo: robust policies on the simulated linear MDP against the exact robust optimum."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tacsuite.agents import dr_lsvi_ucb, dr_rpo, lsvi_ucb
from tacsuite.agents.common.linear_runs import finite_state_features, make_env
from tacsuite.common import atomic, plots
from tacsuite.envs.linear_mdp import linear_mdp_model
from tacsuite.theory.robust import finite_horizon_values, robust_value_iteration

ENV = "tacsuite/SimulatedLinearMDP-v0"


def _value(policy: np.ndarray, q: float) -> float:
    m = linear_mdp_model(q)
    V, _ = finite_horizon_values(m.transitions(), m.rewards(), policy)
    return float(m.initial @ V[0])


def run(out: Path, episodes: int = 300, seeds: int = 3, rho: float = 0.5) -> dict:
    qs = np.linspace(0, 1, 11)
    states = finite_state_features(make_env(ENV, ""))
    fig, axes = plots.figure(width=6, height=4.4, layout="constrained")
    ax = axes[0, 0]
    summary: dict = {"episodes": episodes, "seeds": seeds, "rho": rho}
    algos = {"dr-rpo": dr_rpo, "dr-lsvi-ucb": dr_lsvi_ucb, "lsvi-ucb": lsvi_ucb}
    for i, (name, mod) in enumerate(algos.items()):
        curves = []
        for seed in range(seeds):
            learner, _ = mod.fit(mod.Config(episodes=episodes, rho=rho, seed=seed, out=""))
            pi = learner.policy_table(states)
            curves.append([_value(pi, q) for q in qs])
        curves = np.asarray(curves)
        ax.plot(qs, curves.mean(0), label=f"{name} (mean of {seeds} seeds)",
                **plots.series_style(i, len(algos)))
        summary[name] = {f"q={q:g}": float(curves[:, i].mean())
                         for i, q in enumerate(qs) if q in (0.0, 0.5, 0.8)}
    mask = np.zeros((3, 4))
    mask[0, 3] = rho
    robust = robust_value_iteration(linear_mdp_model(0.0), rho=mask).policy
    plots.reference_line(ax, qs, [_value(robust, q) for q in qs],
                         f"exact rho={rho} robust optimum")
    summary["robust_optimum"] = {f"q={q:g}": _value(robust, q) for q in (0.0, 0.5, 0.8)}
    ax.set_xlabel("test shift q (trained at q = 0)")
    ax.set_ylabel("expected return (exact)")
    ax.set_title("SimulatedLinearMDP-v0: robust vs non-robust")
    plots.legend_below(fig, ncol=2)
    atomic.savefig(out / "robust.png", fig)
    plots.close(fig)
    summary["png"] = "robust.png"
    return summary
