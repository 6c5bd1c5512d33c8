"""Benchmark the LSD planners: lp-rounding at scale, and against the exact DP.

1. lp-rounding on a random monotone instance with k=50 arms, tau_max=20, T=100000 (the
   target is under 10 s on one core): LP solve, rounding and evaluation times.
2. lp-rounding and the exact DP on the same instance, the largest the DP handles in
   about a quarter of a minute here (k=6, tau_max=6, T=10000 by default): the ratio of
   their times and of their expected rewards.

Writes runs/bench_lsd/result.json and bench_lsd.png; prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents.lsd.lp_rounding import rounding_actions  # noqa: E402
from tacsuite.agents.lsd.plan import expected_rewards  # noqa: E402
from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.envs.lsd_instance import random_instance  # noqa: E402
from tacsuite.theory.lsd import (  # noqa: E402
    finite_horizon_optimum,
    lp_relaxation,
    state_graph,
    upper_bound,
)


def time_lp_rounding(inst, seed: int = 0) -> dict:
    t0 = time.perf_counter()
    lp = lp_relaxation(inst.satiated, inst.rested)
    t1 = time.perf_counter()
    acts = rounding_actions(inst, lp, np.random.default_rng(seed))
    t2 = time.perf_counter()
    value = float(expected_rewards(inst, acts).sum())
    t3 = time.perf_counter()
    return {"lp_s": t1 - t0, "rounding_s": t2 - t1, "evaluate_s": t3 - t2, "total_s": t3 - t0,
            "expected_reward": value,
            "upper_bound": upper_bound(inst.satiated, inst.rested, inst.initial_state,
                                       inst.horizon, lp=lp)}


def time_exact(inst) -> dict:
    t0 = time.perf_counter()
    g = state_graph(inst.satiated, inst.rested, inst.initial_state)
    t1 = time.perf_counter()
    best = finite_horizon_optimum(inst.satiated, inst.rested, inst.initial_state,
                                  inst.horizon, graph=g)
    t2 = time.perf_counter()
    return {"states": len(g.states), "graph_s": t1 - t0, "dp_s": t2 - t1, "total_s": t2 - t0,
            "optimum": best.value}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--tau-max", type=int, default=20)
    p.add_argument("--horizon", type=int, default=100_000)
    p.add_argument("--dp-k", type=int, default=6)
    p.add_argument("--dp-tau-max", type=int, default=6)
    p.add_argument("--dp-horizon", type=int, default=10_000)
    p.add_argument("--quick", action="store_true", help="smaller instances for a smoke run")
    p.add_argument("--out", default="runs/bench_lsd")
    a = p.parse_args()
    if a.quick:
        a.horizon, a.dp_k, a.dp_tau_max, a.dp_horizon = 20_000, 5, 5, 2_000
    out = Path(a.out)
    big = random_instance(a.k, a.tau_max, a.horizon, 0)
    lr = time_lp_rounding(big)
    print(f"lp-rounding k={a.k} tau_max={a.tau_max} T={a.horizon}: {lr['total_s']:.2f} s "
          f"(LP {lr['lp_s']:.2f} s, rounding {lr['rounding_s']:.2f} s, evaluation "
          f"{lr['evaluate_s']:.2f} s); target < 10 s: {lr['total_s'] < 10}")
    print(f"lp-rounding k={a.k}: expected reward / upper bound = "
          f"{lr['expected_reward'] / lr['upper_bound']:.4f}")
    small = random_instance(a.dp_k, a.dp_tau_max, a.dp_horizon, 1)
    ex = time_exact(small)
    ls = time_lp_rounding(small)
    ratio = ls["total_s"] / ex["total_s"]
    print(f"exact DP k={a.dp_k} tau_max={a.dp_tau_max} T={a.dp_horizon} ({ex['states']} joint "
          f"states): {ex['total_s']:.2f} s")
    print(f"lp-rounding on the same instance: {ls['total_s']:.3f} s; time ratio lp-rounding / "
          f"exact DP = {ratio:.4f}")
    print(f"lp-rounding / exact optimum (expected reward) = "
          f"{ls['expected_reward'] / ex['optimum']:.4f}")
    fig, axes = plots.figure(width=6)
    ax = axes[0, 0]
    names = [f"lp-rounding\nk={a.k}, T={a.horizon}", f"lp-rounding\nk={a.dp_k}, T={a.dp_horizon}",
             f"exact DP\nk={a.dp_k}, T={a.dp_horizon}"]
    ax.bar(names, [lr["total_s"], ls["total_s"], ex["total_s"]], color=plots.PALETTE[:3])
    ax.set_yscale("log")
    ax.set_ylabel("seconds (one core)")
    ax.set_title("LSD planners: wall time")
    atomic.savefig(out / "bench_lsd.png", fig)
    plots.close(fig)
    atomic.write_json(out / "result.json", {
        "lp_rounding_large": {"k": a.k, "tau_max": a.tau_max, "horizon": a.horizon, **lr,
                              "under_10s": lr["total_s"] < 10},
        "dp_instance": {"k": a.dp_k, "tau_max": a.dp_tau_max, "horizon": a.dp_horizon},
        "exact_dp": ex, "lp_rounding_on_dp_instance": ls,
        "time_ratio_lp_rounding_over_dp": ratio,
        "reward_ratio_lp_rounding_over_optimum": ls["expected_reward"] / ex["optimum"],
        "options": vars(a), "png": "bench_lsd.png"})
    print(f"wrote {out / 'result.json'}")


if __name__ == "__main__":
    main()
