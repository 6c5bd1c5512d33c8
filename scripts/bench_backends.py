"""The world benchmark on Taichi and on Quadrants in one run, as Quadrants / Taichi ratios.

Each compiler runs in its own process (`TACSUITE_BACKEND=taichi`, then `quadrants`) the
figures of `bench_world.py`: env-substeps per second of the ~8k- and ~1k-tet scenes at
B = 1, 16, 64, one explicit substep of the 8k scene, and the compile figures (a fresh
process's world build, importing the compiler included, its first world step and a repeat
step, with an empty offline cache and with it warm). Every figure gets its speed-up of
Quadrants over Taichi (> 1: Quadrants is faster). `--rounds N` alternates the compilers
N times and keeps each one's best, which damps the drift of a shared machine. `--quick`:
the 1k scene at B = 1 and 16 and the compile figures only (a few minutes on 2 cores).

    python scripts/bench_backends.py [--quick] [--rounds 1] [--out runs/bench_backends]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
BACKENDS = ("taichi", "quadrants")


def worker(quick: bool) -> dict:
    """Figures of this process's compiler: name -> (value, 'rate' | 'time')."""
    sys.path.insert(0, str(HERE))
    import bench_world as bw

    from tacsuite.sim.backend import compiler, ensure_init

    ensure_init()
    figs = {}
    if quick:
        for B in (1, 16):
            w, *_ = bw.scene(bw.SCENES["1k"], B, 10, cube=False)
            t = bw.timed(lambda w=w: w.step(), 1)
            figs[f"1k scene B={B} (env-substeps/s)"] = (B * 10 / t, "rate")
    else:
        res = bw.throughput(False)
        for name in bw.SCENES:
            for B, rate in res[f"{name}_env_substeps_per_s"].items():
                figs[f"{name} scene B={B} (env-substeps/s)"] = (rate, "rate")
        ref = bw.reference_ratio(False)
        figs["8k explicit substep (ms)"] = (ref["substep_ours_ms"], "time")
    comp = bw.compile_figures()
    for cache, label in (("cold_cache", "empty cache"), ("warm_cache", "warm cache")):
        c = comp[cache]
        figs[f"world build, {label} (s)"] = (c["build_s"], "time")
        figs[f"first world step, {label} (s)"] = (c["first_step_s"], "time")
        figs[f"repeat world step, {label} (s)"] = (c["repeat_step_s"], "time")
    return {"compiler": compiler(), "figures": figs}


def run_worker(name: str, quick: bool) -> dict:
    env = {**os.environ, "TACSUITE_BACKEND": name}
    cmd = [sys.executable, __file__, "--worker"] + (["--quick"] if quick else [])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench_backends: the {name} run failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def best(a, b):
    (va, kind), (vb, _) = a, b
    return (max(va, vb) if kind == "rate" else min(va, vb)), kind


def plot(report: dict, path: Path) -> None:
    from tacsuite.common import atomic, plots

    keys = list(report["figures"])
    fig, axes = plots.figure(width=7.5, height=0.42 * len(keys) + 1.2)
    ax = axes[0, 0]
    sp = [report["figures"][k]["quadrants_speedup"] for k in keys]
    # Bars grow from 1 (no difference) on a log axis: x2 and x0.5 look alike.
    ax.barh(range(len(keys)), [v - 1 for v in sp], left=1.0,
            color=[plots.PALETTE[0] if v >= 1 else plots.PALETTE[1] for v in sp])
    for i, v in enumerate(sp):
        ax.text(v, i, f" x{v:.2f} ", va="center", ha="left" if v >= 1 else "right",
                fontsize=8)
    ax.axvline(1.0, color="k", lw=1.0)
    ax.set_yticks(range(len(keys)), keys, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    lo, hi = min(sp + [1.0]) / 1.6, max(sp + [1.0]) * 1.6
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("speed-up of Quadrants over Taichi (> 1: Quadrants faster)")
    ct, cq = report["compilers"]["taichi"], report["compilers"]["quadrants"]
    ax.set_title(f"taichi {ct['version']} vs quadrants {cq['version']}, same machine, "
                 f"same run", fontsize=9)
    fig.tight_layout()
    atomic.savefig(path, fig)
    plots.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1k scene and compile figures only")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the compilers N times")
    ap.add_argument("--out", default="runs/bench_backends")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.quick)))
        return 0
    if args.rounds < 1:
        raise SystemExit(f"bench_backends: --rounds must be >= 1, got {args.rounds}")
    from importlib import util

    missing = [b for b in BACKENDS if util.find_spec(b) is None]
    if missing:
        raise SystemExit(f"bench_backends: needs both compilers; {missing} not installed "
                         f"(pip install 'tacsuite[quadrants]')")
    runs = {b: [] for b in BACKENDS}
    for r in range(args.rounds):
        for b in BACKENDS:
            print(f"round {r + 1}/{args.rounds}: {b} ...", flush=True)
            runs[b].append(run_worker(b, args.quick))
    figs = {}
    for b in BACKENDS:
        f = {k: tuple(v) for k, v in runs[b][0]["figures"].items()}
        for other in runs[b][1:]:
            f = {k: best(f[k], tuple(other["figures"][k])) for k in f}
        figs[b] = f
    report = {"quick": args.quick, "rounds": args.rounds, "machine_threads": os.cpu_count(),
              "compilers": {b: runs[b][0]["compiler"] for b in BACKENDS}, "figures": {}}
    print(f"{'figure':44s} {'taichi':>11s} {'quadrants':>11s}  quadrants speed-up")
    for key, (vt, kind) in figs["taichi"].items():
        vq = figs["quadrants"][key][0]
        speedup = vq / vt if kind == "rate" else vt / vq
        report["figures"][key] = {"taichi": vt, "quadrants": vq, "kind": kind,
                                  "quadrants_speedup": speedup}
        print(f"{key:44s} {vt:11.4g} {vq:11.4g}  x{speedup:.2f}")
    from tacsuite.common import atomic

    out = Path(args.out)
    atomic.write_json(out / "result.json", report)
    plot(report, out / "result.png")
    print(f"wrote {out / 'result.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
