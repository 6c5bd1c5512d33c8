"""Identification and rendering speed, as ratios against baselines measured in the same run.

1. A 3-parameter fit (E, nu, mu) from a press-and-slide sequence (20 steps on the
   explicit rig) with 1 % noise, from guesses off by 2x, per ground truth and motion:
   the gradient fit (L-BFGS) against CMA-ES and random search on the same budget of
   simulator calls (parameter errors, losses), and the calls and seconds CMA-ES needs to
   reach the gradient fit's loss (given up to `--cma-factor` times the budget; 0 skips
   it). `--rig static --motions press,slide,twist` runs the quasi-static rig (8 load
   steps, stick/slip friction: a twist transmits torque), about 10x slower a call.
2. Rendering a 320 x 240 tactile image (shader, markers) from a deformed ~8k-tet gel:
   images per second, and its share of one control step of the explicit world on the
   same gel.

    python scripts/bench_sysid.py [--quick] [--truths 5] [--out runs/bench_sysid]
    python scripts/bench_sysid.py --rig static --motions press,slide,twist --truths 2 \
        --budget 30 --cma-factor 0 --out runs/bench_sysid_static
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tacsuite.common import atomic, plots  # noqa: E402
from tacsuite.sim import optics, sysid  # noqa: E402

NAMES = ["E", "nu", "mu"]


def rel_errors(fitted: dict, truth: dict) -> dict:
    return {k: abs(fitted[k] - truth[k]) / (1.0 if k == "nu" else truth[k]) for k in NAMES}


def first_reaching(trace, loss):
    for r in trace:
        if r["best"] is not None and r["best"] <= loss:
            return r["calls"], r["seconds"]
    return None, None


def identification(truths, budget, cma_factor, rig, motion="slide",
                   methods=("cmaes", "random")):
    rows = []
    for i, truth in enumerate(truths):
        obs = sysid.synth(truth, motion, 0.01, i, rig=rig)
        init = {"E": 2 * truth["E"], "nu": truth["nu"] / 2, "mu": 2 * truth["mu"]}
        row = {"motion": motion, "truth": truth, "init": init}
        g = sysid.fit(obs, NAMES, init, method="grad", budget=budget, rig=rig, seed=i)
        row["grad"] = {k: g[k] for k in ("fitted", "stderr", "loss", "sim_calls", "seconds")}
        row["traces"] = {"grad": g["trace"]}
        for m in methods:
            r = sysid.fit(obs, NAMES, init, method=m, budget=g["sim_calls"], rig=rig, seed=i,
                          stderr=False)
            row[m] = {k: r[k] for k in ("fitted", "loss", "sim_calls", "seconds")}
            row["traces"][m] = r["trace"]
        if cma_factor > 0:
            long = sysid.fit(obs, NAMES, init, method="cmaes",
                             budget=cma_factor * g["sim_calls"], rig=rig, seed=i, stderr=False)
            calls, secs = first_reaching(long["trace"], g["loss"])
            row["cmaes_to_grad_loss"] = {"calls": calls, "seconds": secs,
                                         "budget": cma_factor * g["sim_calls"],
                                         "best_loss": long["loss"]}
            row["traces"]["cmaes_long"] = long["trace"]
        for m in ("grad", *methods):
            row[m]["errors"] = rel_errors(row[m]["fitted"], truth)
        rows.append(row)
        others = "; ".join(f"{m} err {row[m]['errors']}, loss {row[m]['loss']:.3g}"
                           for m in methods)
        print(f"{motion}, truth {i}: grad err {row['grad']['errors']}, loss {g['loss']:.3g} in "
              f"{g['sim_calls']} calls / {g['seconds']:.0f} s; {others}", flush=True)
    return rows


def rendering(reps):
    from tacsuite.sim.backend import ensure_init, import_taichi
    from tacsuite.sim.contact_pair import ContactPair
    from tacsuite.sim.fem_body import FEMBody
    from tacsuite.sim.indenters import Sphere
    from tacsuite.sim.kinematic import KinematicRigid
    from tacsuite.sim.mesh import structured_box
    from tacsuite.sim.readout import GelReadout
    from tacsuite.sim.world import World
    ti = import_taichi()
    ensure_init()
    H = 0.004
    mesh = structured_box((0.02, 0.02, H), (16, 16, 5))
    w = World(batch=1, dt=1e-8, substeps=10, dtype=ti.f32)
    gel = w.add(FEMBody("gel", mesh, E=1e5, nu=0.3, density=1000.0, alpha=100.0))
    ball = w.add(KinematicRigid("ball", Sphere(6e-3, dtype=ti.f32),
                                pose=(0, 0, H + 6e-3 - 3e-4, 0, 0, 0)))
    w.add_pair(ContactPair(gel, ball, kn=8e9, kt=8e9, mu=0.5))
    w.reset()
    w.set_dt(w.dt_limit)
    for _ in range(3):
        w.step()
    ti.sync()
    t0 = time.perf_counter()
    for _ in range(reps):
        w.step()
    ti.sync()
    step_s = (time.perf_counter() - t0) / reps
    ro = GelReadout(mesh, markers=(11, 11), res=(240, 320))
    X = ro.rest(1)
    r2 = (X[..., 0] ** 2 + X[..., 1] ** 2)
    x = X.clone()
    x[..., 2] -= 3e-4 * torch.exp(-r2 / (2 * 1.5e-3**2)) * (X[..., 2] / H)   # a press
    with torch.no_grad():
        img = optics.render(ro, x)
        t0 = time.perf_counter()
        for _ in range(reps):
            img = optics.render(ro, x)
            optics.to_uint8(img)
        render_s = (time.perf_counter() - t0) / reps
    return {"tets": int(mesh.tets.shape[0]), "image": [240, 320],
            "images_per_s": 1.0 / render_s, "render_s": render_s,
            "control_step_s": step_s, "substeps": 10,
            "render_share_of_step": render_s / (render_s + step_s)}, optics.to_uint8(img)[0]


def plot(rows, image, out):
    fig, axes = plots.figure(3, 1, width=4.0, height=3.4, layout="constrained")
    ax = axes[0, 0]
    meths = [m for m in ("grad", "cmaes", "random") if m in rows[0]]
    width = 0.25
    for j, m in enumerate(meths):
        med = [np.median([r[m]["errors"][k] for r in rows]) for k in NAMES]
        ax.bar(np.arange(3) + (j - 1) * width, np.maximum(med, 1e-7), width, label=m,
               color=plots.PALETTE[j])
    ax.set_yscale("log")
    ax.set_xticks(range(3), ["E (rel.)", "nu (abs.)", "mu (rel.)"])
    ax.set_ylabel(f"median error over {len(rows)} truth(s)")
    ax.set_title("same simulator-call budget")
    ax.set_ylim(top=ax.get_ylim()[1] * 30)     # room for the legend above the bars
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    ax = axes[0, 1]
    tr = rows[0]["traces"]
    best = lambda rows: [np.nan if r["best"] is None else r["best"] for r in rows]  # noqa: E731
    ax.semilogy([r["calls"] for r in tr["grad"]], best(tr["grad"]),
                label="gradient (L-BFGS)", color=plots.PALETTE[0])
    cma = tr.get("cmaes_long", tr.get("cmaes"))
    if cma:
        ax.semilogy([r["calls"] for r in cma], best(cma), label="CMA-ES",
                    color=plots.PALETTE[1])
    ax.set_xlabel("simulator calls")
    ax.set_ylabel("best loss")
    ax.set_title(f"truth 0, {rows[0]['motion']}: loss against calls")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    ax.imshow(image)
    ax.set_title("320 x 240 tactile image (8k-tet gel)")
    ax.set_xlabel("pixel u")
    ax.set_ylabel("pixel v")
    atomic.savefig(out / "bench_sysid.png", fig)
    plots.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one ground truth, fewer reps")
    ap.add_argument("--truths", type=int, default=5)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--cma-factor", type=int, default=4)
    ap.add_argument("--rig", choices=sysid.SOLVERS, default="explicit")
    ap.add_argument("--motions", default="slide", help=f"comma list from {sysid.MOTIONS}")
    ap.add_argument("--methods", default="cmaes,random",
                    help="baselines on the gradient fit's budget (comma list of cmaes, random)")
    ap.add_argument("--out", default="runs/bench_sysid")
    args = ap.parse_args()
    motions = [m.strip() for m in args.motions.split(",") if m.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in motions if m not in sysid.MOTIONS] + [
        m for m in methods if m not in ("cmaes", "random")]
    if bad or not motions:
        ap.error(f"unknown motion or method {bad}; motions {sysid.MOTIONS}, methods cmaes, "
                 "random")
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 1 if args.quick else args.truths
    truths = [{"E": 1e5, "nu": 0.35, "mu": 0.5}] + [
        {"E": float(rng.uniform(6e4, 2e5)), "nu": float(rng.uniform(0.25, 0.4)),
         "mu": float(rng.uniform(0.3, 0.8))} for _ in range(n - 1)]
    rig = sysid.Rig({"solver": args.rig})
    rows = [r for m in motions
            for r in identification(truths, args.budget, args.cma_factor, rig, m, methods)]
    render, image = rendering(3 if args.quick else 10)
    print(f"rendering: {render['images_per_s']:.1f} images/s, {render['render_share_of_step']:.1%}"
          f" of a control step ({render['control_step_s'] * 1e3:.0f} ms world step)")
    ratios = {}
    for k in NAMES:
        g = np.array([r["grad"]["errors"][k] for r in rows])
        for m in methods:
            o = np.array([r[m]["errors"][k] for r in rows])
            ratios[f"{m}/grad {k} error (median)"] = float(np.median(o / np.maximum(g, 1e-12)))
    res = {"identification": [{k: v for k, v in r.items() if k != "traces"} for r in rows],
           "error_ratios": ratios, "rendering": render, "budget": args.budget,
           "rig": rig.config(), "motions": motions,
           "cores": os.cpu_count(), "load_average": os.getloadavg()}
    atomic.write_json(out / "bench_sysid.json", res)
    plot(rows, image, out)
    print(ratios)
    print(f"-> {out}/bench_sysid.json, {out}/bench_sysid.png")


if __name__ == "__main__":
    main()
