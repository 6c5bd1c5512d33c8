"""Reproduce the DR-RPO picture: train in the nominal env, test under shifts, 10 seeds.

Parts (all by default):
- linear: tacsuite/SimulatedLinearMDP-v0, DR-RPO vs DR-LSVI-UCB vs LSVI-UCB trained at
  q = 0 with radius rho on the shifted factor; the exact value of each learned policy for
  q = 0, 0.1, ..., 1 (IQM over seeds with 95% bootstrap bands), a Monte-Carlo check at
  q in {0, 0.5, 0.8}, and DR-RPO's average robust suboptimality (1/k) sum_j subopt(pi^j)
  against k (theory: falls at least like 1/sqrt(k));
- put: tacsuite/AmericanPutOption-v0 trained at p = 0.5, tested at p in {0.2, ..., 1.0};
- cartpole: tacsuite/RobustCartPole-v0 trained with the default physics, tested under
  longer/heavier poles, a weaker motor and action noise.

The training runs are the sweeps `scripts/sweeps/reproduce_dr_rpo_{linear,put,cartpole}.yaml`
(`_quick.yaml` with --quick), run by `tacsuite sweep` into OUT/sweep/<part>/ (resumable: a
rerun keeps finished trials; `--workers N`, `--engine ray`; `tacsuite report
OUT/sweep/<part> --metric mean_return` gives the generic report). The tests under shifts
read each trial's run folder: policy.json and suboptimality.npy (linear), the final
checkpoint (put, cartpole: the learner as training left it, so the same seeds give the
same numbers as in one process). Writes OUT/result.json and reproduce_dr_rpo.png
(OUT = runs/reproduce_dr_rpo). Run time on one core: about 30 s with --quick, about 9 min
for the full run.

On CartPole DR-RPO and DR-LSVI-UCB score the same: every state there is new to DR-RPO's
table, where its policy is softmax(Q/beta) and beta = 0.01 makes that the greedy policy
(tests/agents/test_dr_rpo_cartpole.py shows it decision by decision).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tacsuite.agents.common.linear_runs import (  # noqa: E402
    load_trained_learner,
    make_env,
    run_episode,
)
from tacsuite.commands import sweep  # noqa: E402
from tacsuite.commands.evaluate import evaluate_policy  # noqa: E402
from tacsuite.common import atomic, plots, stats, sweepspec  # noqa: E402
from tacsuite.envs.linear_mdp import linear_mdp_model  # noqa: E402
from tacsuite.theory.robust import finite_horizon_values, robust_value_iteration  # noqa: E402

ALGOS = ("dr-rpo", "dr-lsvi-ucb", "lsvi-ucb")
PARTS = ("linear", "put", "cartpole")
SPECS = Path(__file__).resolve().parent / "sweeps"
LINEAR = "tacsuite/SimulatedLinearMDP-v0"
PUT = "tacsuite/AmericanPutOption-v0"
CARTPOLE = "tacsuite/RobustCartPole-v0"
CARTPOLE_TESTS = {"nominal": "", "length x2": "length=1.0", "masspole x5": "masspole=0.5",
                  "force 0.6x": "force_mag=6.0", "action noise 0.2": "action_noise=0.2"}


def exact_value(policy: np.ndarray, q: float) -> float:
    m = linear_mdp_model(q)
    V, _ = finite_horizon_values(m.transitions(), m.rewards(), policy)
    return float(m.initial @ V[0])


def summary(x) -> dict:
    return stats.iqm_ci(np.asarray(x), reps=1000)


def train(part: str, args, out: Path) -> dict:
    """Run the part's sweep (finished trials are kept); its run folders by algorithm, in
    seed order."""
    spec = sweepspec.load(SPECS / f"reproduce_dr_rpo_{part}{'_quick' if args.quick else ''}"
                          ".yaml")
    if args.seeds is not None:
        spec["seeds"] = list(range(args.seeds))
    if part == "linear":
        spec["options"].update(rho=args.rho)
        if args.episodes is not None:
            spec["options"]["episodes"] = args.episodes
    where = out / "sweep" / part
    sweep.write_spec(out / "specs" / f"{part}.json", spec, where)
    status = sweep.main([str(out / "specs" / f"{part}.json"), "--out", str(where),
                         "--engine", args.engine, "--workers", str(args.workers)],
                        "reproduce_dr_rpo")
    if status != 0:
        raise SystemExit(f"some trials failed (see {where / 'failed'}/); fix the cause, run "
                         f"`tacsuite sweep {out / 'specs' / f'{part}.json'} --out {where} "
                         "--retry-failed`, then this script again")
    runs: dict[str, list[Path]] = {a: [] for a in ALGOS}
    for t in sweepspec.trials(spec):
        runs[t.algo].append(where / t.name)
    return {"runs": runs, "seeds": spec["seeds"], "options": spec["options"]}


def linear_part(trained: dict, mc_episodes) -> dict:
    runs, seeds, rho = trained["runs"], trained["seeds"], trained["options"]["rho"]
    episodes = trained["options"]["episodes"]
    qs = np.round(np.linspace(0, 1, 11), 2)
    values = {a: np.zeros((len(seeds), qs.size)) for a in ALGOS}
    mc = {a: {q: [] for q in (0.0, 0.5, 0.8)} for a in ALGOS}
    subopt = np.zeros((len(seeds), episodes))
    for a in ALGOS:
        for i, (seed, run) in enumerate(zip(seeds, runs[a], strict=True)):
            pi = np.asarray(atomic.read_json(run / "policy.json")["probs"])
            values[a][i] = [exact_value(pi, q) for q in qs]
            for q in mc[a]:
                kw = {"q": q} if q else {}
                mc[a][q].append(evaluate_policy(pi, LINEAR, kw, mc_episodes, seed)["mean"])
            if a == "dr-rpo":
                subopt[i] = np.load(run / "suboptimality.npy")
    mask = np.zeros((3, 4))
    mask[0, 3] = rho
    robust_opt = robust_value_iteration(linear_mdp_model(0.0), rho=mask).policy
    nominal_opt = robust_value_iteration(linear_mdp_model(0.0)).policy
    k = np.arange(1, episodes + 1)
    avg = np.cumsum(subopt, axis=1) / k
    tail = slice(episodes // 10, episodes)
    # Slope of log(median average suboptimality) against log(k) over the last 90%.
    slope = float(np.polyfit(np.log(k[tail]),
                             np.log(np.maximum(np.median(avg, 0)[tail], 1e-12)), 1)[0])
    return {
        "q": qs.tolist(), "rho": rho, "episodes": episodes, "seeds": list(seeds),
        "exact_value": {a: {f"{q:g}": summary(values[a][:, j]) for j, q in enumerate(qs)}
                        for a in ALGOS},
        "monte_carlo": {a: {f"{q:g}": summary(v) for q, v in mc[a].items()} for a in ALGOS},
        "mc_episodes": mc_episodes,
        "robust_optimal_policy_value": {f"{q:g}": exact_value(robust_opt, q) for q in qs},
        "nominal_optimal_policy_value": {f"{q:g}": exact_value(nominal_opt, q) for q in qs},
        "dr_rpo_average_suboptimality_at_K": summary(avg[:, -1]),
        "dr_rpo_average_suboptimality_loglog_slope": slope,
        "_curves": {"values": {a: v.tolist() for a, v in values.items()},
                    "avg_subopt": avg.tolist()},
    }


def continuous_part(env_id, trained: dict, test_kwargs, test_episodes) -> dict:
    base_kwargs = trained["options"]["env_kwargs"]
    out = {}
    for a in ALGOS:
        seeds, runs = trained["seeds"], trained["runs"][a]
        scores = np.zeros((len(seeds), len(test_kwargs)))
        for i, (seed, run) in enumerate(zip(seeds, runs, strict=True)):
            learner = load_trained_learner(run)
            for j, extra in enumerate(test_kwargs.values()):
                kw = ",".join(x for x in (base_kwargs, extra) if x)
                env = make_env(env_id, kw)
                scores[i, j] = np.mean([run_episode(env, learner, seed=1000 * seed + t,
                                                    learn=False)
                                        for t in range(test_episodes)])
                env.close()
        out[a] = {"scores": scores.tolist(),
                  "iqm": {name: summary(scores[:, j]) for j, name in enumerate(test_kwargs)}}
    return out


def plot(result: dict, out: Path) -> None:
    fig, axes = plots.figure(ncols=2, nrows=2, width=5.5, height=4.2, layout="constrained")
    lin = result.get("linear")
    if lin:
        ax = axes[0, 0]
        curves_by_algo = lin["_curves"]["values"]
        for i, (a, curves) in enumerate(curves_by_algo.items()):
            plots.iqm_band(ax, lin["q"], np.asarray(curves), a, reps=300,
                           **plots.series_style(i, len(curves_by_algo)))
        plots.reference_line(ax, lin["q"], list(lin["robust_optimal_policy_value"].values()),
                             f"rho={lin['rho']}-robust optimum (exact)")
        ax.set_xlabel("test shift q")
        ax.set_ylabel("expected return (exact)")
        ax.set_title(f"SimulatedLinearMDP: trained at q=0, K={lin['episodes']}")
        ax.legend(fontsize=7)
        ax = axes[0, 1]
        avg = np.asarray(lin["_curves"]["avg_subopt"])
        k = np.arange(1, avg.shape[1] + 1)
        plots.iqm_band(ax, k, np.maximum(avg, 1e-6), "DR-RPO", color=plots.PALETTE[0], reps=200)
        ref = avg[:, 9].mean() * np.sqrt(10) / np.sqrt(k)
        ax.plot(k, ref, "k:", label="c / sqrt(k)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episodes k")
        ax.set_ylabel("average robust suboptimality")
        ax.set_title(f"slope {lin['dr_rpo_average_suboptimality_loglog_slope']:.2f} (log-log)")
        ax.legend(fontsize=7)
    for ax, key, xlabel, title in (
            (axes[1, 0], "put", "test up-probability p", "AmericanPutOption: trained at p=0.5"),
            (axes[1, 1], "cartpole", "test perturbation", "RobustCartPole: trained nominal")):
        part = result.get(key)
        if not part:
            ax.axis("off")
            continue
        names = list(next(iter(part.values()))["iqm"])
        x = np.arange(len(names))
        for i, (a, r) in enumerate(part.items()):
            style = plots.series_style(i, len(part))
            mid = [r["iqm"][n]["iqm"] for n in names]
            lo = [r["iqm"][n]["ci_low"] for n in names]
            hi = [r["iqm"][n]["ci_high"] for n in names]
            same = key == "cartpole" and a == "dr-rpo" and same_scores(part, a, "dr-lsvi-ucb")
            ax.plot(x, mid, label=f"{a} (same scores as dr-lsvi-ucb)" if same else a, **style)
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
        ax.set_xticks(x, names, fontsize=7)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test return (IQM, 95% CI)")
        ax.set_title(title)
        ax.legend(fontsize=7)
    atomic.savefig(out / "reproduce_dr_rpo.png", fig)
    plots.close(fig)


def same_scores(part: dict, a: str, b: str) -> bool:
    return np.array_equal(np.asarray(part[a]["scores"]), np.asarray(part[b]["scores"]))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 seeds and small budgets")
    ap.add_argument("--seeds", type=int, default=None, help="seeds (spec: 10, quick 3)")
    ap.add_argument("--episodes", type=int, default=None,
                    help="linear-MDP training episodes (spec: 1000, quick 200)")
    ap.add_argument("--rho", type=float, default=0.5, help="radius on the linear MDP")
    ap.add_argument("--parts", default="linear,put,cartpole")
    ap.add_argument("--workers", type=int, default=1, help="trials run at once")
    ap.add_argument("--engine", choices=["local", "ray"], default="local")
    ap.add_argument("--out", default="runs/reproduce_dr_rpo")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    out = Path(args.out)
    result: dict = {"quick": args.quick}
    t0 = time.perf_counter()
    if "linear" in parts:
        trained = train("linear", args, out)
        lin = linear_part(trained, 300 if args.quick else 1000)
        result["linear"] = lin
        seeds, K = trained["seeds"], lin["episodes"]
        for q in ("0", "0.5", "0.8"):
            line = ", ".join(f"{a} {lin['exact_value'][a][q]['iqm']:.3f} "
                             f"[{lin['exact_value'][a][q]['ci_low']:.3f}, "
                             f"{lin['exact_value'][a][q]['ci_high']:.3f}]" for a in ALGOS)
            print(f"linear MDP q={q}: exact value IQM over {len(seeds)} seeds: {line}")
        for q in ("0", "0.5", "0.8"):
            line = ", ".join(f"{a} {lin['monte_carlo'][a][q]['iqm']:.3f}" for a in ALGOS)
            print(f"linear MDP q={q}: Monte-Carlo mean return IQM: {line}")
        print(f"DR-RPO average robust suboptimality at K={K}: "
              f"{lin['dr_rpo_average_suboptimality_at_K']['iqm']:.4f}, log-log slope "
              f"{lin['dr_rpo_average_suboptimality_loglog_slope']:.2f} (1/sqrt(K) is -0.5)")
    if "put" in parts:
        tests = {f"{p:g}": f"p={p}" for p in (0.2, 0.4, 0.6, 0.8, 1.0)}
        put = continuous_part(PUT, train("put", args, out), tests, 30 if args.quick else 100)
        result["put"] = put
        for a, r in put.items():
            print(f"put {a}: " + ", ".join(f"p={n} {v['iqm']:.2f}" for n, v in r["iqm"].items()))
    if "cartpole" in parts:
        cp = continuous_part(CARTPOLE, train("cartpole", args, out), CARTPOLE_TESTS,
                             5 if args.quick else 20)
        result["cartpole"] = cp
        for a, r in cp.items():
            print(f"cartpole {a}: " + ", ".join(f"{n} {v['iqm']:.1f}"
                                                 for n, v in r["iqm"].items()))
        result["cartpole_dr_rpo_equals_dr_lsvi_ucb"] = same_scores(cp, "dr-rpo", "dr-lsvi-ucb")
        if result["cartpole_dr_rpo_equals_dr_lsvi_ucb"]:
            print("cartpole: dr-rpo scores exactly as dr-lsvi-ucb (at new states its policy is "
                  "softmax(Q/beta), greedy at beta=0.01; tests/agents/test_dr_rpo_cartpole.py)")
    result["seconds"] = time.perf_counter() - t0
    plot(result, out)
    result["png"] = "reproduce_dr_rpo.png"
    if "linear" in result:
        result["linear"].pop("_curves")
    atomic.write_json(out / "result.json", result)
    print(f"wrote {out / 'result.json'} and {out / 'reproduce_dr_rpo.png'} "
          f"in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
