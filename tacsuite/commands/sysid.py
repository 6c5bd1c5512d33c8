"""`tacsuite sysid`: identify gel and contact parameters from press, slide or twist data.

    tacsuite sysid synth --E 1e5 --nu 0.35 --mu 0.5 --motion slide --noise 0.01 --out OBS.npz
    tacsuite sysid fit OBS.npz --params E,nu,mu --init E=2e5,nu=0.175,mu=1.0 --out DIR

`fit` writes DIR/result.json (fitted, stderr, loss, iterations, sim_calls, seconds, the
trajectory), DIR/trajectory.png (loss and parameters against simulator calls) and
DIR/signals.png (observed against fitted read-outs). The observation format is in
`tacsuite.sim.sysid`; `--markers-csv` replaces the file's markers by tracks from a CSV
(columns step, marker, du, dv).
"""

from __future__ import annotations

import argparse

import numpy as np

from tacsuite.common import atomic


def _synth(args) -> int:
    from tacsuite.sim import sysid
    values = {k: getattr(args, k) for k in sysid.PARAMS if getattr(args, k) is not None}
    obs = sysid.synth(values, args.motion, args.noise, args.seed, config={"solver": args.rig})
    sysid.save_observations(args.out, obs)
    print(f"{args.rig} rig, {args.motion}: {obs['actions'].shape[0]} steps, "
          f"{obs['markers'].shape[1]} markers, "
          f"max |F| {np.abs(obs['wrench'][:, :3]).max():.4g} N -> {args.out}")
    return 0


def plot_fit(res: dict, obs: dict, out) -> None:
    from tacsuite.common import plots
    rows = res["trace"]
    calls = [r["calls"] for r in rows]
    k = len(res["params"])
    fig, axes = plots.figure(k + 1, 1, width=3.4, height=3.0, layout="constrained")
    ax = axes[0, 0]
    finite = lambda key: [np.nan if r[key] is None else r[key] for r in rows]  # noqa: E731
    ax.semilogy(calls, finite("loss"), ".", color="0.6", label="evaluated")
    ax.semilogy(calls, finite("best"), "-", color=plots.PALETTE[0], label="best")
    ax.set_xlabel("simulator calls")
    ax.set_ylabel("loss")
    ax.set_title(f"{res['method']} fit")
    ax.legend(fontsize=8)
    truth = res.get("truth") or {}
    for i, name in enumerate(res["params"]):
        a = axes[0, i + 1]
        a.plot(calls, [r["params"][i] for r in rows], ".-", color=plots.PALETTE[1], ms=3,
               label="iterate")
        if name in truth:
            a.axhline(truth[name], color="k", ls="--", lw=1, label="truth")
        a.set_xlabel("simulator calls")
        a.set_ylabel(name)
        a.legend(fontsize=8)
    atomic.savefig(out / "trajectory.png", fig)
    plots.close(fig)
    obj = res["_objective"]
    sig = obj.fitted_signals([res["fitted"][n] for n in res["params"]])
    panels = [(k, v) for k, v in obj.targets.items()]
    fig, axes = plots.figure(len(panels), 1, width=3.6, height=3.0, layout="constrained")
    step = np.arange(1, obj.actions.shape[0] + 1)
    for j, (key, target) in enumerate(panels):
        a = axes[0, j]
        t = target.numpy().reshape(len(step), -1)
        f = sig[key].reshape(len(step), -1)
        if key == "markers":   # the marker with the largest motion, u and v
            i = int(np.argmax(np.abs(t).max(0))) // 2 * 2
            cols, labels = [i, i + 1], ["u", "v"]
        else:
            cols, labels = [0, 1, 2], ["x", "y", "z"]
        for c, (col, lab) in enumerate(zip(cols, labels, strict=True)):
            a.plot(step, t[:, col], "o", ms=3, color=plots.PALETTE[c], label=f"{lab} observed")
            a.plot(step, f[:, col], "-", color=plots.PALETTE[c], label=f"{lab} fitted")
        unit = {"force": "N", "torque": "N m", "markers": "px"}[key]
        a.set_title(key if key != "markers" else "largest marker track")
        a.set_xlabel("step")
        a.set_ylabel(f"{key} ({unit})")
        a.legend(fontsize=7, ncol=2)
    atomic.savefig(out / "signals.png", fig)
    plots.close(fig)


def _fit(args) -> int:
    from tacsuite.common.runs import RunDir
    from tacsuite.sim import sysid
    obs = sysid.load_observations(args.obs)
    if args.markers_csv:
        obs["markers"] = sysid.load_marker_csv(args.markers_csv)
    names = sysid.check_params(args.params.split(","))
    init = sysid.parse_assignments(args.init)
    with RunDir(args.out, vars(args), seed=args.seed, overwrite=args.overwrite) as run:
        res = sysid.fit(obs, names, init, method=args.method, budget=args.budget,
                        optimizer=args.optimizer, restarts=args.restarts, seed=args.seed)
        plot_fit(res, obs, run.path)
        run.write_result({k: v for k, v in res.items() if not k.startswith("_")})
    fitted = ", ".join(f"{n}={res['fitted'][n]:.5g} +- {res['stderr'][n]:.2g}" for n in names)
    failed = f" ({res['failed_calls']} did not converge)" if res["failed_calls"] else ""
    print(f"{args.method}: {fitted}; loss {res['loss']:.3g}, {res['sim_calls']} simulator "
          f"calls{failed}, {res['seconds']:.1f} s -> {args.out}")
    return 0


def main(argv: list[str], prog: str) -> int:
    from tacsuite.sim.sysid import MOTIONS, PARAMS, SOLVERS
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth", help="write synthetic observations of a motion")
    for name, spec in PARAMS.items():
        s.add_argument(f"--{name}", type=float, default=None,
                       help=f"true {name} (default {spec[2]:g}; bounds {spec[3]:g}..{spec[4]:g})")
    s.add_argument("--motion", choices=MOTIONS, default="slide")
    s.add_argument("--rig", choices=SOLVERS, default="explicit",
                   help="static: quasi-static load steps with stick/slip friction (a twist "
                   "transmits torque; about 10x slower); explicit: the damped explicit world "
                   "(default); fit uses the rig the file names")
    s.add_argument("--noise", type=float, default=0.01,
                   help="Gaussian noise, a fraction of each signal's RMS (default 0.01)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="observation file (.npz)")
    f = sub.add_parser("fit", help="fit parameters to an observation file")
    f.add_argument("obs", help="observation file (.npz)")
    f.add_argument("--params", default="E,nu,mu", help=f"comma list from {list(PARAMS)}")
    f.add_argument("--init", default="", help="start values, e.g. E=2e5,nu=0.2,mu=1 (also "
                   "fixes parameters that are not fitted)")
    f.add_argument("--method", choices=("grad", "cmaes", "random"), default="grad")
    f.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    f.add_argument("--restarts", type=int, default=1)
    f.add_argument("--budget", type=int, default=80,
                   help="simulator calls (a forward rollout and a reverse pass count one each)")
    f.add_argument("--markers-csv", default=None, help="marker tracks CSV (step,marker,du,dv)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--out", required=True, help="run folder")
    f.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    return _synth(args) if args.cmd == "synth" else _fit(args)
