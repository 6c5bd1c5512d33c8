"""Run the world on CUDA and check it against the CPU (a few minutes on a CUDA machine).

Each architecture runs in its own process (Taichi starts once per process):
  1. a damped explicit press (float64): the settled contact force;
  2. a 200-step batched rollout with gradients (float64, 8 environments with different
     E and kn): contact forces at every step and the gradient of their sum with respect to
     E, kn and the indenter's actions;
  3. speed: env-substeps per second of the ~1k-tet scene (float32, no gradients) at
     B = 1, 64 and 1024.
CUDA results must match the CPU's to 1e-4 relative (of each quantity's largest magnitude);
the script prints the comparison and the speed-ups and writes runs/check_gpu/result.json.
Without CUDA it says so and exits with status 1. `--backend` picks the compiler
(`taichi`, `quadrants`, or `both`: each checked in turn, and the CUDA results of the two
compared to the same 1e-4); default: TACSUITE_BACKEND, else taichi.

    python scripts/check_gpu.py [--quick] [--backend both] [--out runs/check_gpu]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RTOL = 1e-4
BATCHES = (1, 64, 1024)
BACKENDS = ("taichi", "quadrants")
KEYS = ("press_force", "rollout_force", "grad_E", "grad_kn", "grad_actions")


def worker(quick: bool) -> dict:
    from tacsuite.sim.backend import ensure_init, import_taichi
    ensure_init()
    ti = import_taichi()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_world import scene

    out = {}
    # 1. press
    w, gel, obj, pair, _ = scene((6, 6, 3), 1, 20, dtype=ti.f64, cube=False)
    w.set_dt(0.8 * w.dt_limit)
    gel.set_params(alpha=3000.0)        # damped: the press settles
    z0 = obj.pose()[0, 2]
    for i in range(1, 61):
        w.step({"object": (0, 0, z0 - 0.1e-3 * min(i / 20, 1.0), 0, 0, 0)})
    out["press_force"] = np.array(pair.history)[-10:, 0].tolist()
    # 2. batched rollout with gradients
    B, T = 8, 200 if not quick else 40
    w, gel, obj, pair, _ = scene((6, 6, 3), B, 5, dtype=ti.f64, requires_grad=True,
                                 cube=False)
    w.set_dt(0.7 * w.dt_limit)          # room for the stiffer environments
    gel.set_params(alpha=3000.0)
    gel.set_params(E=np.linspace(0.8e5, 1.2e5, B))
    pair.set_params(kn=pair.values["kn"] * np.linspace(0.8, 1.2, B))
    w.reset()
    z0 = obj.pose()[:, 2]
    for i in range(1, T + 1):
        pose = np.zeros((B, 6))
        pose[:, 2] = z0 - 0.1e-3 * min(i / 50, 1.0)
        pose[:, 0] = 0.1e-3 * max(i - 100, 0) / 100
        w.step({"object": pose})
    out["rollout_force"] = np.array(pair.history)[:, :, 2].tolist()
    seeds = {i + 1: {f"{pair.name}.force": np.tile([0.0, 0.0, 1.0], (B, 1))} for i in range(T)}
    g = w.backward(seeds)
    out["grad_E"] = g["params"]["gel"]["E"].tolist()
    out["grad_kn"] = g["params"][pair.name]["kn"].tolist()
    out["grad_actions"] = g["actions"]["object"].tolist()
    # 3. speed
    out["env_substeps_per_s"] = {}
    for b in BATCHES:
        w, *_ = scene((8, 8, 3), b, 10, cube=False)
        w.step()
        ti.sync()
        n = 1 if (quick or b == 1024) else 3
        t0 = time.perf_counter()
        for _ in range(n):
            w.step()
        ti.sync()
        out["env_substeps_per_s"][str(b)] = b * 10 * n / (time.perf_counter() - t0)
    return out


def run_arch(arch: str, quick: bool, backend: str) -> tuple[dict | None, str]:
    env = {**os.environ, "TACSUITE_ARCH": arch, "TACSUITE_BACKEND": backend}
    cmd = [sys.executable, __file__, "--worker"] + (["--quick"] if quick else [])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
        return None, lines[-1] if lines else f"exit status {r.returncode}"
    return json.loads(r.stdout.strip().splitlines()[-1]), ""


def cuda_available(backend: str) -> tuple[bool, str]:
    probe = ("import sys\nfrom tacsuite.sim.backend import ensure_init\n"
             "try:\n    ensure_init('cuda', log_level='error')\n"
             "except Exception as e:\n    print(e); sys.exit(1)\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       env={**os.environ, "TACSUITE_BACKEND": backend})
    lines = (r.stdout + r.stderr).strip().splitlines()
    return r.returncode == 0, lines[-1] if lines else ""


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 40-step rollout, one timing each")
    ap.add_argument("--out", default="runs/check_gpu")
    ap.add_argument("--backend", choices=(*BACKENDS, "both"),
                    default=os.environ.get("TACSUITE_BACKEND", "taichi").strip().lower(),
                    help="compiler(s) to check (default: TACSUITE_BACKEND, else taichi)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.backend not in (*BACKENDS, "both"):
        ap.error(f"TACSUITE_BACKEND={args.backend!r} is not supported; choose one of "
                 f"{BACKENDS} or pass --backend")
    if args.worker:
        print(json.dumps(worker(args.quick)))
        return 0
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    reports = {}
    for backend in backends:
        ok, why = cuda_available(backend)
        if not ok:
            print(f"check_gpu: CUDA is not available to {backend} on this machine ({why}); "
                  f"nothing was checked. Run this script on a machine with an NVIDIA GPU.")
            return 1
        out = Path(args.out) / backend if len(backends) > 1 else Path(args.out)
        report = check(backend, args.quick, out)
        if report is None:
            return 1
        reports[backend] = report
    passed = all(e <= RTOL for r in reports.values() for e in r["errors"].values())
    if len(backends) > 1:
        t, q = (reports[b]["results"]["cuda"] for b in BACKENDS)
        for key in KEYS:
            e = rel_err(q[key], t[key])
            passed &= e <= RTOL
            print(f"{key}: max relative difference quadrants vs taichi on CUDA {e:.2e} "
                  f"({'ok' if e <= RTOL else 'FAILS'} at {RTOL:g})")
    print(f"check_gpu: {'passed' if passed else 'FAILED'}; wrote {args.out}")
    return 0 if passed else 1


def check(backend: str, quick: bool, out: Path) -> dict | None:
    results = {}
    for arch in ("cpu", "cuda"):
        res, err = run_arch(arch, quick, backend)
        if res is None:
            print(f"check_gpu: the {backend} {arch} run failed: {err}")
            return None
        results[arch] = res
    cpu, gpu = results["cpu"], results["cuda"]
    report = {"backend": backend, "rtol": RTOL, "errors": {}, "speedup": {}}
    for key in KEYS:
        e = rel_err(gpu[key], cpu[key])
        report["errors"][key] = e
        print(f"[{backend}] {key}: max relative difference CUDA vs CPU {e:.2e} "
              f"({'ok' if e <= RTOL else 'FAILS'} at {RTOL:g})")
    for b in BATCHES:
        c, g = cpu["env_substeps_per_s"][str(b)], gpu["env_substeps_per_s"][str(b)]
        report["speedup"][str(b)] = g / c
        print(f"[{backend}] B={b}: CPU {c:.0f}, CUDA {g:.0f} env-substeps/s: "
              f"speed-up x{g / c:.1f}")
    report["results"] = results
    from tacsuite.common import atomic, plots
    atomic.write_json(out / "result.json", report)
    fig, axes = plots.figure()
    ax = axes[0, 0]
    ax.bar([f"B={b}" for b in BATCHES], [report["speedup"][str(b)] for b in BATCHES],
           color=plots.PALETTE[0])
    ax.set_ylabel("CUDA / CPU env-substeps per second")
    ax.set_title(f"compiler: {backend}")
    fig.tight_layout()
    atomic.savefig(out / "speedup.png", fig)
    plots.close(fig)
    return report


if __name__ == "__main__":
    sys.exit(main())
