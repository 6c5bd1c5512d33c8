"""`tacsuite lsd plan|learn`: plan or learn last-switch-dependent bandit instances."""

from __future__ import annotations

import dataclasses
import importlib
import time
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

from tacsuite.common import atomic
from tacsuite.common.cliargs import dispatch, parse_kwargs, run_config
from tacsuite.common.runs import RunDir

LEARNER_CONFIGS = {
    "lp-ucb": ("tacsuite.agents.lsd.lp_ucb", "LPUCBConfig"),
    "isi-combucb1": ("tacsuite.agents.lsd.isi_combucb1", "ISICombUCB1Config"),
    "ucb1": ("tacsuite.agents.lsd.ucb1", "UCB1Config"),
}


@dataclasses.dataclass
class PlanConfig:
    instance: tyro.conf.Positional[str]
    """Instance JSON file (see README: LSD bandits)."""
    planner: Literal["exact", "lp-rounding", "greedy", "recharging"] = "lp-rounding"
    """exact: DP optimum (small k, tau_max); lp-rounding: LP rounding with mirrored virtual
    schedules; greedy: Oracle Greedy; recharging: (1-1/e) planner for delay-only instances."""
    seed: int = 0
    """Seed of the randomized planners."""
    out: str = "plan.json"
    """Where to write {"actions", "expected_reward", "upper_bound"}."""
    samples: int = 1
    """lp-rounding/recharging: keep the best of this many seeded roundings."""


@dataclasses.dataclass
class LearnConfig:
    instance: tyro.conf.Positional[str]
    """Instance JSON file (see README: LSD bandits)."""
    algo: Literal["lp-ucb", "isi-combucb1", "ucb1"] = "lp-ucb"
    """lp-ucb: LP re-solved on UCB indices in doubling epochs; isi-combucb1: Laforgue et
    al.'s block learner; ucb1: state-blind UCB1."""
    seed: int = 0
    """Seed of the learner and of the reward noise."""
    out: str = "runs/lsd_learn"
    """Run folder: rewards.npy, regret.npy, result.json, config.json, metrics.jsonl."""
    algo_kwargs: str = ""
    """Extra learner options as k=v,k2=v2 (fields of the learner's config)."""
    planner_draws: int = 8
    """Roundings averaged for the full-information planner's expected reward."""
    overwrite: bool = False
    """Clear --out first when it holds an earlier run."""


def run_plan(cfg: PlanConfig) -> dict:
    from tacsuite.agents.lsd import planner
    from tacsuite.envs.lsd_instance import load_instance

    inst = load_instance(cfg.instance)
    if cfg.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {cfg.samples}")
    mod = planner(cfg.planner)
    kwargs = {"samples": cfg.samples} if cfg.planner in ("lp-rounding", "recharging") else {}
    result = mod.plan(inst, seed=cfg.seed, **kwargs).to_json()
    atomic.write_json(cfg.out, result)
    return result


def learner_config(algo: str, seed: int, extra: str):
    module, name = LEARNER_CONFIGS[algo]
    cls = getattr(importlib.import_module(module), name)
    kwargs = parse_kwargs(extra)
    fields = {f.name for f in dataclasses.fields(cls)} - {"seed"}
    bad = sorted(set(kwargs) - fields)
    if bad:
        raise ValueError(f"unknown --algo-kwargs {bad} for {algo}; allowed: {sorted(fields)}")
    return importlib.import_module(module), cls(seed=seed, **kwargs)


def run_learn(cfg: LearnConfig) -> dict:
    from tacsuite.agents.lsd import online
    from tacsuite.envs.lsd_instance import load_instance

    inst = load_instance(cfg.instance)
    if cfg.planner_draws < 1:
        raise ValueError(f"--planner-draws must be >= 1, got {cfg.planner_draws}")
    module, algo_cfg = learner_config(cfg.algo, cfg.seed, cfg.algo_kwargs)
    run = RunDir(cfg.out, {**dataclasses.asdict(cfg), "algo_config": dataclasses.asdict(algo_cfg),
                           "instance_data": inst.to_dict()}, seed=cfg.seed,
                 overwrite=cfg.overwrite)
    t0 = time.perf_counter()
    res = module.learn(inst, algo_cfg)
    seconds = time.perf_counter() - t0
    planner = online.planner_curve(inst, draws=cfg.planner_draws)
    exact = online.exact_curve(inst)
    regret = online.regret_columns(res.means, planner, exact)
    T = inst.horizon
    for t in np.unique(np.linspace(1, T, 20).astype(int)):
        run.log(t=int(t), regret_vs_planner=float(regret[t - 1, 0]),
                regret_vs_exact=None if exact is None else float(regret[t - 1, 1]),
                reward=float(res.rewards[:t].sum()))
    run.save_array("rewards", res.rewards)
    run.save_array("regret", regret)
    result = {
        "algo": cfg.algo, "seed": cfg.seed, "horizon": T, "k": inst.k, "tau_max": inst.tau_max,
        "total_reward": float(res.rewards.sum()),
        "total_expected_reward": float(res.means.sum()),
        "planner_expected_reward": float(planner.sum()),
        "exact_optimum": None if exact is None else float(exact.sum()),
        "regret_vs_planner": float(regret[-1, 0]),
        "regret_vs_exact": None if exact is None else float(regret[-1, 1]),
        "regret_columns": ["vs_planner", "vs_exact"],
        "learner_seconds": round(seconds, 3),
    }
    run.write_result(result)
    return result


def _plan(argv: list[str], prog: str) -> int:
    cfg = run_config(PlanConfig, argv, prog,
                     description="Plan an LSD bandit instance with known means; writes "
                                 "{actions, expected_reward, upper_bound} as JSON.")
    r = run_plan(cfg)
    ub = r["upper_bound"]
    print(f"{cfg.planner}: expected reward {r['expected_reward']:.3f}"
          + ("" if ub is None else f", upper bound {ub:.3f}") + f" -> {Path(cfg.out)}")
    return 0


def _learn(argv: list[str], prog: str) -> int:
    cfg = run_config(LearnConfig, argv, prog,
                     description="Learn an LSD bandit instance online; writes rewards.npy, "
                                 "regret.npy (T x 2: vs the full-information planner, vs "
                                 "the exact optimum or NaN) and result.json.")
    r = run_learn(cfg)
    print(f"{cfg.algo}: reward {r['total_reward']:.0f}, regret vs planner "
          f"{r['regret_vs_planner']:.1f} -> {Path(cfg.out)}")
    return 0


def main(argv: list[str], prog: str) -> int:
    return dispatch({"plan": (_plan, "Plan with known means (exact, lp-rounding, greedy)."),
                     "learn": (_learn, "Learn online (lp-ucb, isi-combucb1, ucb1).")},
                    argv, prog, "Last-switch-dependent (LSD) bandits: planning and learning.")
