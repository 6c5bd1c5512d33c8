"""`tacsuite sweep --engine ray`: the sweep's trials as Ray Tune trials.

The driver decides which trials run (the same plan, folders and failure records as the
local engine); Ray Tune only schedules them, each with the spec's `resources` (CPUs,
GPUs), on a local Ray instance started here or on the cluster at `--address`. A trial
runs in-process in a Tune actor (kept for the next trial) and writes its run folder
under `--out` itself, so on a cluster `--out` must be a folder every node sees (a
shared file system) and tacsuite must be installed on every node. Ray's own experiment
state goes to `--out/.ray/` and is not needed to resume: a restarted sweep plans from
the trials' `result.json` files as the local engine does.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from tacsuite.common import sweepspec, trialexec


def _trainable(jobs: dict[str, tuple[list[str], str]], threads: str):
    def trial(config: dict) -> None:
        from ray import tune

        os.environ["TACSUITE_TORCH_THREADS"] = threads
        argv, log = jobs[config["trial"]]
        status, seconds = trialexec.execute(argv, log,
                                            header=f"# ray trial process {os.getpid()}")
        tune.report({"exit_status": status, "trial_seconds": seconds})

    return trial


def run(todo: list[sweepspec.Trial], out: Path, workers: int | None,
        resources: dict[str, float], address: str | None) -> list[dict]:
    from tacsuite.commands.sweep import record, report_line, trial_job, worker_env

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # no progress tables: a line a trial
    import ray
    from ray import tune

    by_name = {t.name: t for t in todo}
    jobs = {t.name: trial_job(t, out) for t in todo}
    records: list[dict] = []
    started = {}

    class Recorder(tune.Callback):
        def on_trial_start(self, iteration, trials, trial, **info):
            started[trial.config["trial"]] = time.perf_counter()

        def _end(self, trial, error: str | None):
            name = trial.config["trial"]
            result = trial.last_result or {}
            status = int(result.get("exit_status", 1))
            now = time.perf_counter()
            seconds = float(result.get("trial_seconds", now - started.get(name, now)))
            rec = record(by_name[name], out, jobs[name][0], status, seconds, extra=error)
            print(report_line(rec), flush=True)
            records.append(rec)

        def on_trial_complete(self, iteration, trials, trial, **info):
            self._end(trial, None)

        def on_trial_error(self, iteration, trials, trial, **info):
            self._end(trial, "the Ray trial process failed (see --out/.ray/ for Ray's logs)")

    own = not ray.is_initialized()
    if own:
        if address is not None:
            ray.init(address=address)
        else:
            cpus = None if workers is None else max(1, math.ceil(workers * resources["cpu"]))
            ray.init(num_cpus=cpus, include_dashboard=False)
    try:
        have = ray.cluster_resources()
        for key, name in (("cpu", "CPU"), ("gpu", "GPU")):
            if resources[key] > have.get(name, 0.0):
                raise ValueError(f"spec field 'resources.{key}': a trial asks for "
                                 f"{resources[key]:g} {name}s, the Ray cluster has "
                                 f"{have.get(name, 0.0):g}")
        env = worker_env(resources)
        fn = tune.with_resources(_trainable(jobs, env["TACSUITE_TORCH_THREADS"]),
                                 {"cpu": resources["cpu"], "gpu": resources["gpu"]})
        tuner = tune.Tuner(
            fn, param_space={"trial": tune.grid_search(list(jobs))},
            tune_config=tune.TuneConfig(max_concurrent_trials=workers, reuse_actors=True),
            run_config=tune.RunConfig(
                storage_path=str(out.resolve() / ".ray"),
                name=time.strftime("tune-%Y%m%d-%H%M%S"), verbose=0, callbacks=[Recorder()],
                failure_config=tune.FailureConfig(max_failures=0)))
        tuner.fit()
    finally:
        if own:
            ray.shutdown()
    return records
