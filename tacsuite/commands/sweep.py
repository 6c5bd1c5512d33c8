"""`tacsuite sweep SPEC --out DIR`: run every trial of a sweep spec, in parallel, resumably.

Each trial runs `tacsuite train ...` (or `lsd learn`) writing `DIR/<trial>/`. The local
engine runs trials in long-lived spawned worker processes (`common/workerpool.py`) that
import the suite once, so a trial costs its own work, not an interpreter start-up; the
ray engine runs the same trials as Ray Tune trials (`commands/sweep_ray.py`), on a local
Ray instance or a cluster. A trial is finished when its `result.json` exists (run
folders write it atomically, last), so a restarted sweep with the same `--out` runs only
the trials without one. A trial that exits non-zero, or whose worker dies, is recorded
in `DIR/failed/<trial>.json` with its exit status and the tail of its log; the sweep goes
on, a restart skips it, and `--retry-failed` runs it again. Logs go to `DIR/logs/`, one
status line a trial that ended (exit status, seconds) to `DIR/logs/trials.jsonl`.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from pathlib import Path

from tacsuite.common import atomic, sweepspec, trialexec
from tacsuite.common.runs import check_out


def trial_job(trial: sweepspec.Trial, out: Path) -> tuple[list[str], str]:
    """(tacsuite argv, log path) of one trial; an unfinished folder starts again clean."""
    folder = out.resolve() / trial.name
    argv = trial.argv(str(folder))
    if folder.exists():
        argv.append("--overwrite")
    return argv, str(out.resolve() / "logs" / f"{trial.name}.log")


def record(trial: sweepspec.Trial, out: Path, argv: list[str], status: int, seconds: float,
           extra: str | None = None) -> dict:
    """The status record of a trial that ended; a failure is also written to failed/."""
    rec = {"trial": trial.name, "algo": trial.algo, "options": trial.options,
           "seed": trial.seed, "exit_status": status, "seconds": seconds, "argv": argv}
    if status != 0 or not (out / trial.name / "result.json").is_file():
        from tacsuite.common.workerpool import signal_name

        tail = trialexec.log_tail(out / "logs" / f"{trial.name}.log")
        if status < 0:
            tail += f"\nworker process killed by {signal_name(status)}"
        if extra:
            tail += "\n" + extra
        rec["error"] = tail.strip() or f"exit status {status}, no output"
        atomic.write_json(out / "failed" / f"{trial.name}.json", rec)
    with open(out / "logs" / "trials.jsonl", "a", encoding="utf-8") as fh:  # timings
        fh.write(json.dumps({k: v for k, v in rec.items() if k != "error"}) + "\n")
    return rec


def report_line(rec: dict) -> str:
    if "error" not in rec:
        status = "ok"
    elif rec["exit_status"] < 0:
        from tacsuite.common.workerpool import signal_name

        status = f"FAILED (worker killed by {signal_name(rec['exit_status'])})"
    else:
        status = f"FAILED (exit {rec['exit_status']})"
    return f"  {rec['trial']}: {status} in {rec['seconds']:.1f} s"


def plan(trials: list[sweepspec.Trial], out: Path, retry_failed: bool
         ) -> tuple[list[sweepspec.Trial], int, int]:
    """(trials to run, already finished, failed and skipped)."""
    todo, done, skipped = [], 0, 0
    for t in trials:
        if (out / t.name / "result.json").is_file():
            done += 1
        elif (out / "failed" / f"{t.name}.json").is_file() and not retry_failed:
            skipped += 1
        else:
            todo.append(t)
    return todo, done, skipped


def write_spec(path: Path, spec: dict, out: Path) -> None:
    """Write at `path` the spec a script runs into the sweep folder `out`; refuse one that
    differs from the spec written there before in anything but its seeds: finished trials
    are kept by name, so the old ones would be mixed, stale, into the new results."""
    if path.is_file() and (changed := sweepspec.changed_fields(atomic.read_json(path), spec)):
        raise SystemExit(f"{out} holds trials of another spec ({', '.join(changed)} differ "
                         f"from {path}); use another --out or remove {out}")
    atomic.write_json(path, spec)


def worker_env(resources: dict[str, float]) -> dict[str, str]:
    threads = str(max(1, int(resources["cpu"])))
    return {"OMP_NUM_THREADS": threads, "TACSUITE_TORCH_THREADS": threads}


def run_local(todo: list[sweepspec.Trial], out: Path, workers: int,
              resources: dict[str, float]) -> list[dict]:
    from tacsuite.common import workerpool

    by_name = {t.name: t for t in todo}
    jobs = [(t.name, *trial_job(t, out)) for t in todo]
    argvs = {name: argv for name, argv, _ in jobs}
    records: list[dict] = []

    def done(name: str, status: int, seconds: float) -> None:
        rec = record(by_name[name], out, argvs[name], status, seconds)
        print(report_line(rec), flush=True)
        records.append(rec)

    workerpool.run(jobs, workers, done, env=worker_env(resources))
    return records


def main(argv: list[str], prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").split("\n\n")[0]
                                     + " Spec format: see tacsuite/common/sweepspec.py and "
                                     "the README.")
    parser.add_argument("spec", help="sweep spec, .yaml/.yml or .json")
    parser.add_argument("--out", required=True, help="sweep folder (one sub-folder a trial)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: parallel worker processes on this machine; ray: Ray "
                             "Tune trials on a local Ray instance, or on --address")
    parser.add_argument("--address", default=None,
                        help="ray: address of a running Ray cluster (e.g. auto, or "
                             "HEAD_IP:6379); default a local instance")
    parser.add_argument("--workers", type=int, default=None,
                        help="trials run at once (>= 1; default 1 locally, for ray the "
                             "cluster's resources decide)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the trials recorded as failed")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the spec and list the trials; run nothing")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.address is not None and args.engine != "ray":
        raise ValueError("--address names a Ray cluster; it needs --engine ray")
    spec = sweepspec.load(args.spec)
    trials = sweepspec.trials(spec)
    if args.engine == "ray":
        from tacsuite.common.validate import require

        require("ray.tune", "ray", "--engine ray")
    if args.dry_run:
        for t in trials:
            print(" ".join(["tacsuite"] + t.argv(str(Path(args.out) / t.name))))
        return 0
    out = check_out(args.out)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    # One driver a sweep folder: a second would start the same unfinished trials again.
    with open(out / ".sweep.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"--out {out}: another `tacsuite sweep` is running on it"
                             ) from None
        return _run(spec, trials, out, args)


def _run(spec: dict, trials: list[sweepspec.Trial], out: Path, args) -> int:
    atomic.write_json(out / "sweep.json", {"spec": spec, "trials": [t.name for t in trials]})
    todo, done, skipped = plan(trials, out, args.retry_failed)
    for t in todo:  # a retried or re-run trial starts without its old failure record
        (out / "failed" / f"{t.name}.json").unlink(missing_ok=True)
    res = sweepspec.resources(spec)
    where = (f"{args.workers or 1} worker(s)" if args.engine == "local" else
             f"Ray ({args.address or 'local instance'}, {res['cpu']:g} CPU, {res['gpu']:g} GPU "
             "a trial)")
    print(f"sweep: {len(trials)} trials, {done} finished, {skipped} failed before (skipped; "
          f"--retry-failed runs them), {len(todo)} to run with {where}", flush=True)
    start = time.perf_counter()
    if not todo:
        records = []
    elif args.engine == "local":
        records = run_local(todo, out, args.workers or 1, res)
    else:
        from tacsuite.commands import sweep_ray

        records = sweep_ray.run(todo, out, args.workers, res, args.address)
    failed = sorted(p.stem for p in (out / "failed").glob("*.json"))
    print(f"sweep: ran {len(records)} trials in {time.perf_counter() - start:.1f} s; "
          f"{len(failed)} failed" + (f": {', '.join(failed)}" if failed else "") +
          f" -> {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], "tacsuite sweep"))
