"""MBPO (VaGraM loss) vs model-free SB3 SAC on Pendulum: wall time, component shares, return.

Both run the same number of env steps in one process, one after the other, with torch on
one thread, on the default settings of `tacsuite train mbpo-vagram` and `tacsuite train
sac` (no distractors unless --distractors). Reports seconds, the share of MBPO's time per
component (model fit, rollouts, SAC updates, env steps, evaluations, checkpoints), the
ratio of MBPO's time to SAC's, and both final returns (10 evaluation episodes).

    python scripts/bench_vagram.py [--steps 5000] [--distractors 0] [--seed 0] [--quick]
        [--set key=value,...]

`--set` overrides options of both runs (e.g. updates_per_step=2,sac_hidden=(128,128)),
except updates_per_step, which only MBPO takes: SAC keeps its one update per env step.

Writes runs/bench_vagram/bench.json and bench.png.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from tacsuite.agents import mbpo  # noqa: E402
from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.common.cliargs import parse_kwargs  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--distractors", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/bench_vagram")
    p.add_argument("--quick", action="store_true", help="1,500 steps, smaller model")
    p.add_argument("--set", default="", help="k=v,... overrides for both runs")
    a = p.parse_args(argv)
    out = Path(a.out)
    extra = {}
    if a.quick:
        a.steps = 1500
        extra = {"start_steps": 500, "model_width": 64, "model_layers": 2,
                 "rollout_schedule": (500, 1500, 1, 2)}
    extra.update(parse_kwargs(a.set))
    results = {}
    for name, cls in (("mbpo-vagram", mbpo.VagramConfig), ("sac", mbpo.SACConfig)):
        mine = {k: v for k, v in extra.items() if name != "sac" or k != "updates_per_step"}
        config = cls(env="tacsuite/PendulumDistractor-v0",
                     env_kwargs=f"distractors={a.distractors}", seed=a.seed, steps=a.steps,
                     out=str(out / name), overwrite=True, **mine)
        results[name] = mbpo.train(config)
        r = results[name]
        print(f"{name}: {r['seconds']:.1f} s, eval return {r['eval_return']:.1f}", flush=True)
    m, s = results["mbpo-vagram"], results["sac"]
    report = {
        "steps": a.steps, "distractors": a.distractors, "seed": a.seed, "quick": a.quick,
        "overrides": extra,
        "mbpo_seconds": m["seconds"], "sac_seconds": s["seconds"],
        "ratio_mbpo_to_sac": m["seconds"] / s["seconds"],
        "mbpo_component_seconds": m["component_seconds"],
        "mbpo_component_shares": m["component_shares"],
        "sac_component_shares": s["component_shares"],
        "mbpo_eval_return": m["eval_return"], "sac_eval_return": s["eval_return"],
        "mbpo_curve": m["curve"], "sac_curve": s["curve"],
        "mbpo_updates": m["updates"], "sac_updates": s["updates"],
        "mbpo_above_minus_400": m["eval_return"] > -400,
        "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
    }
    atomic.write_json(out / "bench.json", report)
    fig, axes = plots.figure(ncols=2, width=4.6, layout="constrained")
    shares = m["component_shares"]
    keys = sorted(shares, key=shares.get, reverse=True)
    axes[0, 0].barh(keys, [shares[k] for k in keys], color=plots.PALETTE[0])
    axes[0, 0].set_xlabel("share of MBPO wall time")
    axes[0, 0].set_title(f"MBPO {m['seconds']:.0f} s vs SAC {s['seconds']:.0f} s "
                         f"(x{report['ratio_mbpo_to_sac']:.1f})", fontsize=9)
    ax = axes[0, 1]
    for i, (name, r) in enumerate(results.items()):
        x, y = zip(*r["curve"], strict=True)
        ax.plot(x, y, **plots.series_style(i, 2), label=name)
    ax.set_xlabel("env steps")
    ax.set_ylabel("return (deterministic policy)")
    ax.set_title(f"Pendulum, {a.distractors} distractors, seed {a.seed}", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(out / "bench.png", dpi=120)
    plots.close(fig)
    print(f"MBPO {m['seconds']:.1f} s, SAC {s['seconds']:.1f} s, ratio "
          f"{report['ratio_mbpo_to_sac']:.2f}; shares "
          + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()) + f" -> {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
