"""Benchmark DR-RPO on the simulated linear MDP: wall time and per-episode cost curve.

Figures (one line each):
- total seconds for N episodes (default 10,000) of DR-RPO (TV, rho = 0.5) on one core;
- per-episode cost in the first and last 10% of the run, and their ratio (the grouped
  ridge statistics keep it flat on finite-state envs);
- the planning step against a reference implemented here in the same process: the same
  backward pass re-solving the ridge regression from the raw samples and maximising the
  TV dual on a 1,000-point alpha grid (the textbook way), at growing sample counts.

Writes runs/bench_dr_rpo/result.json and cost.png.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents import dr_rpo  # noqa: E402
from tacsuite.agents.common.linear import bonus  # noqa: E402
from tacsuite.agents.common.linear_runs import (  # noqa: E402
    build_learner,
    make_env,
    rho_grid,
    run_episode,
)
from tacsuite.common import atomic, plots  # noqa: E402

ENV = "tacsuite/SimulatedLinearMDP-v0"


def timed_training(episodes: int, seed: int = 0) -> tuple[np.ndarray, object]:
    cfg = dr_rpo.Config(episodes=episodes, rho=0.5, seed=seed, out="")
    env = make_env(ENV, "")
    _, info = env.reset(seed=seed)
    d = info["features"].shape[-1]
    learner = build_learner(env, d, rho_grid(env, cfg.rho, cfg.rho_mask, d), seed,
                            lam=cfg.lam, bonus_kind=cfg.bonus, bonus_scale=cfg.bonus_scale,
                            divergence=cfg.divergence, beta=cfg.beta, eta=cfg.eta,
                            update=cfg.update)
    cost = np.empty(episodes)
    for k in range(episodes):
        t0 = time.perf_counter()
        run_episode(env, learner, seed=seed if k == 0 else None)
        cost[k] = time.perf_counter() - t0
    return cost, (env, learner)


def naive_plan(samples, learner, lam: float = 0.1, grid_size: int = 1000) -> np.ndarray:
    """Reference backward pass: ridge from raw samples, TV dual on an alpha grid."""
    H = learner.H
    y_fn = None
    out = np.zeros((H, learner.d))
    for h in range(H - 1, -1, -1):
        phi, r, nxt = samples[h]
        inv = np.linalg.inv(lam * np.eye(learner.d) + phi.T @ phi)
        theta = inv @ (phi.T @ r)
        if y_fn is None:
            nu = np.zeros(learner.d)
        else:
            y = y_fn(nxt)
            xi = inv @ phi.T                                   # (d, n)
            alphas = np.linspace(0.0, max(y.max(), 1e-12), grid_size)
            z = xi @ np.minimum(y[:, None], alphas[None, :])   # (d, grid)
            nu = np.where(learner.rho[h] > 0,
                          (z - learner.rho[h][:, None] * alphas[None, :]).max(1), xi @ y)
        w = theta + nu
        out[h] = w

        def y_fn(feats, w=w, inv=inv, h=h):  # greedy values at raw next states
            q = feats @ w + bonus(feats, inv, learner.bonus_kind, learner.bonus_scale)
            return np.minimum(q, learner.v_max[h]).max(-1)
    return out


def plan_costs(learner, sizes: list[int], seed: int = 0) -> list[dict]:
    """Time our plan() (grouped statistics: its cost does not depend on the sample count)
    and the naive reference on n raw samples per step."""
    rng = np.random.default_rng(seed)
    env = make_env(ENV, "")
    rows = []
    for n in sizes:
        samples = []
        for _ in range(learner.H):
            s = rng.integers(0, 5, size=n)
            a = rng.integers(0, 16, size=n)
            feats = np.stack([env.unwrapped.features(i) for i in range(5)])
            phi = feats[s, a]
            samples.append((phi, rng.uniform(size=n), feats[rng.integers(0, 5, size=n)]))
        reps = 20
        t0 = time.perf_counter()
        for _ in range(reps):
            learner.plan()
        ours = (time.perf_counter() - t0) / reps
        t0 = time.perf_counter()
        naive_plan(samples, learner)
        naive = time.perf_counter() - t0
        rows.append({"samples_per_step": n, "ours_ms": 1000 * ours, "naive_ms": 1000 * naive,
                     "speedup": naive / ours})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="2,000 episodes, small plan sizes")
    ap.add_argument("--out", default="runs/bench_dr_rpo")
    args = ap.parse_args()
    episodes = 2000 if args.quick else args.episodes
    out = Path(args.out)
    cost, (env, learner) = timed_training(episodes)
    total = float(cost.sum())
    tenth = max(1, episodes // 10)
    first, last = float(cost[:tenth].mean()), float(cost[-tenth:].mean())
    print(f"dr-rpo {episodes} episodes on {ENV}: {total:.2f} s "
          f"({1000 * total / episodes:.3f} ms/episode, one core)")
    print(f"per-episode cost first 10%: {1000 * first:.3f} ms, last 10%: {1000 * last:.3f} ms, "
          f"last/first = {last / first:.2f}")
    sizes = [1000, 10_000] if args.quick else [1000, 10_000, 30_000]
    rows = plan_costs(learner, sizes)
    for row in rows:
        print(f"plan step with {row['samples_per_step']} samples/step: ours "
              f"{row['ours_ms']:.3f} ms vs raw-ridge + alpha-grid reference "
              f"{row['naive_ms']:.1f} ms = {row['speedup']:.0f}x")
    block = max(1, episodes // 100)
    curve = cost[:episodes // block * block].reshape(-1, block).mean(1) * 1000
    fig, axes = plots.figure(width=6)
    ax = axes[0, 0]
    ax.plot(np.arange(1, curve.size + 1) * block, curve, color=plots.PALETTE[0])
    ax.set_xlabel("episode")
    ax.set_ylabel(f"ms per episode (mean of {block})")
    ax.set_ylim(0, max(curve.max() * 1.2, 1e-3))
    ax.set_title(f"DR-RPO on SimulatedLinearMDP-v0: {total:.1f} s for {episodes} episodes")
    atomic.savefig(out / "cost.png", fig)
    plots.close(fig)
    atomic.write_json(out / "result.json", {
        "episodes": episodes, "total_seconds": total, "ms_per_episode": 1000 * total / episodes,
        "first_10pct_ms": 1000 * first, "last_10pct_ms": 1000 * last,
        "last_over_first": last / first, "cost_curve_ms": curve.tolist(),
        "curve_block": block, "plan_vs_reference": rows, "png": "cost.png"})
    print(f"wrote {out / 'result.json'}")


if __name__ == "__main__":
    main()
