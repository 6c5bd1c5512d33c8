"""`tacsuite sweep SPEC --out DIR`: run every trial of a sweep spec, in parallel, resumably.

Each trial is its own `tacsuite train` process (a fresh interpreter, so Taichi and torch
never share state across a fork) writing `DIR/<trial>/`. A trial is finished when its
`result.json` exists (run folders write it atomically, last), so a restarted sweep with
the same `--out` runs only the trials without one. A trial that exits non-zero is recorded
in `DIR/failed/<trial>.json` with its exit status and the tail of its log; the sweep goes
on, a restart skips it, and `--retry-failed` runs it again. Logs go to `DIR/logs/`.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tacsuite.common import atomic, sweepspec
from tacsuite.common.runs import check_out

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A trial must not outlive a killed driver: an orphan would still hold its folder's
    # lock when the sweep is resumed.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def run_trial(trial: sweepspec.Trial, out: Path) -> dict:
    """Run one trial to completion; returns its status record."""
    folder = out / trial.name
    log = out / "logs" / f"{trial.name}.log"
    argv = [sys.executable, "-m", "tacsuite"] + trial.argv(str(folder))
    if folder.exists():
        argv.append("--overwrite")  # an unfinished run (no result.json) starts again clean
    start = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT,
                              preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    seconds = time.perf_counter() - start
    record = {"trial": trial.name, "algo": trial.algo, "options": trial.options,
              "seed": trial.seed, "exit_status": proc.returncode, "seconds": seconds,
              "argv": argv[1:]}
    if proc.returncode != 0 or not (folder / "result.json").is_file():
        tail = log.read_text(errors="replace").strip().splitlines()[-20:]
        record["error"] = "\n".join(tail) or f"exit status {proc.returncode}, no output"
        atomic.write_json(out / "failed" / f"{trial.name}.json", record)
    return record


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


def run_local(todo: list[sweepspec.Trial], out: Path, workers: int) -> list[dict]:
    for t in todo:  # a retried or re-run trial starts without its old failure record
        (out / "failed" / f"{t.name}.json").unlink(missing_ok=True)
    records = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for rec in pool.map(lambda t: run_trial(t, out), todo):
            status = "ok" if "error" not in rec else f"FAILED (exit {rec['exit_status']})"
            print(f"  {rec['trial']}: {status} in {rec['seconds']:.1f} s", flush=True)
            records.append(rec)
    return records


def main(argv: list[str], prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").split("\n\n")[0]
                                     + " Spec format: see tacsuite/common/sweepspec.py and "
                                     "the README.")
    parser.add_argument("spec", help="sweep spec, .yaml/.yml or .json")
    parser.add_argument("--out", required=True, help="sweep folder (one sub-folder a trial)")
    parser.add_argument("--engine", choices=["local"], default="local",
                        help="local: parallel processes on this machine")
    parser.add_argument("--workers", type=int, default=1, help="trials run at once (>= 1)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the trials recorded as failed")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the spec and list the trials; run nothing")
    args = parser.parse_args(argv)
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    spec = sweepspec.load(args.spec)
    trials = sweepspec.trials(spec)
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
    print(f"sweep: {len(trials)} trials, {done} finished, {skipped} failed before (skipped; "
          f"--retry-failed runs them), {len(todo)} to run with {args.workers} worker(s)",
          flush=True)
    start = time.perf_counter()
    records = run_local(todo, out, args.workers)
    failed = sorted(p.stem for p in (out / "failed").glob("*.json"))
    print(f"sweep: ran {len(records)} trials in {time.perf_counter() - start:.1f} s; "
          f"{len(failed)} failed" + (f": {', '.join(failed)}" if failed else "") +
          f" -> {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], "tacsuite sweep"))
