"""`tacsuite sweep`: spec checks, a tiny sweep end to end, failures, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tacsuite.cli import main
from tacsuite.common import sweepspec

BASE = {"command": "train", "algo": "lsvi-ucb",
        "options": {"env": "tacsuite/SimulatedLinearMDP-v0", "episodes": 2}, "seeds": [0]}


def _write(tmp_path: Path, spec: dict) -> str:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.mark.parametrize("change, words", [
    ({"command": "optimize"}, ["'command'", "'optimize'"]),
    ({"algo": "nope"}, ["'algo'", "'nope'"]),
    ({"options": {"episodes": 2, "lamda": 1.0}}, ["'options.lamda'", "unknown option"]),
    ({"grid": {"lam": ["big"]}}, ["'grid.lam'", "'big'", "float"]),
    ({"grid": {"episodes": [2.5]}}, ["'grid.episodes'", "int"]),
    ({"grid": {"lam": []}}, ["'grid.lam'", "non-empty"]),
    ({"grid": {"lam": [0.1, 0.1]}}, ["duplicate trial", "lam=0.1"]),
    ({"seeds": [0, 0]}, ["duplicate trial", "seed=0"]),
    ({"grid": {"bonus": ["round"]}}, ["'grid.bonus'", "'round'", "'elliptical'"]),
    ({"options": {"seed": 3}}, ["'options.seed'", "seeds"]),
    ({"grdi": {}}, ["'grdi'", "allowed fields"]),
    ({"resources": {"cpu": 0}}, ["'resources.cpu'", "> 0"]),
    ({"resources": {"tpu": 1}}, ["'resources.tpu'", "cpu, gpu"]),
    ({"command": "lsd learn", "algo": "lsvi-ucb"}, ["'algo'", "'lsd learn'", "lp-ucb"]),
])
def test_bad_specs_fail_before_any_trial_naming_the_field(tmp_path, capsys, change, words):
    out = tmp_path / "sweep"
    assert main(["sweep", _write(tmp_path, {**BASE, **change}), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tacsuite: error: spec field")
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()  # nothing ran, no folder made


def test_grid_random_and_seeds_expand_to_named_trials():
    spec = {**BASE, "algo": ["lsvi-ucb", "dr-rpo"], "grid": {"lam": [0.1, 1.0]},
            "random": {"n": 2, "seed": 4, "space": {"bonus_scale": {"uniform": [0.5, 2.0]}}},
            "seeds": [0, 1]}
    trials = sweepspec.trials(spec)
    assert len(trials) == 2 * 2 * 2 * 2
    assert len({t.name for t in trials}) == len(trials)
    assert trials[0].name.startswith("lsvi-ucb,bonus_scale=") and trials[0].name.endswith(
        "lam=0.1,seed=0")
    scales = {t.options["bonus_scale"] for t in trials}
    assert len(scales) == 2 and all(0.5 <= s <= 2.0 for s in scales)
    assert sweepspec.trials(spec) == trials  # the same spec maps to the same folders


def _result_mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/result.json")}


def test_tiny_sweep_runs_records_failure_and_retries_only_it(tmp_path, capsys):
    # episodes=0 is refused by the trainer: that trial fails, the other one finishes.
    spec = _write(tmp_path, {**BASE, "grid": {"episodes": [2, 0]}})
    out = tmp_path / "sweep"
    assert main(["sweep", spec, "--workers", "2", "--out", str(out)]) == 1
    good = out / "lsvi-ucb,episodes=2,seed=0"
    result = json.loads((good / "result.json").read_text())
    assert result["episodes"] == 2
    assert json.loads((good / "config.json").read_text())["config"]["seed"] == 0
    failed = json.loads((out / "failed" / "lsvi-ucb,episodes=0,seed=0.json").read_text())
    assert failed["exit_status"] == 2 and "episodes" in failed["error"]
    before = _result_mtimes(out)
    capsys.readouterr()
    # A restart runs nothing: one finished, one failed and skipped.
    assert main(["sweep", spec, "--out", str(out)]) == 1
    assert "1 finished, 1 failed before" in capsys.readouterr().out
    assert main(["sweep", spec, "--out", str(out), "--retry-failed"]) == 1
    text = capsys.readouterr().out
    assert "1 to run" in text and "episodes=0,seed=0: FAILED (exit 2)" in text
    assert _result_mtimes(out) == before
    # The report counts the finished trial and lists the failed one.
    assert main(["report", str(out)]) == 0
    rep = json.loads((out / "report" / "report.json").read_text())
    assert rep["metric"] == "mean_return" and rep["groups"]["lsvi-ucb"]["n"] == 1
    assert rep["groups"]["lsvi-ucb"]["iqm"] == pytest.approx(result["mean_return"])
    assert [f["trial"] for f in rep["failed"]] == ["lsvi-ucb,episodes=0,seed=0"]
    assert "failed (exit 2)" in (out / "report" / "report.md").read_text()
    assert (out / "report" / "report.png").stat().st_size > 10_000
    assert main(["report", str(out), "--metric", "nope"]) == 2
    assert "--metric 'nope'" in capsys.readouterr().err


def test_probability_of_improvement_counts_pairs_and_ties():
    from tacsuite.commands.report import prob_improvement

    assert prob_improvement([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert prob_improvement([1.0, 2.0], [3.0, 4.0]) == 0.0
    # pairs (1,1): tie, (1,3): lose, (3,1): win, (3,3): tie -> (0.5 + 0 + 1 + 0.5) / 4
    assert prob_improvement([1.0, 3.0], [1.0, 3.0]) == 0.5
    assert prob_improvement([2.0], [1.0, 2.0, 3.0]) == pytest.approx(0.5)


def test_sigkill_of_the_driver_then_resume_runs_every_trial_exactly_once(tmp_path):
    # 3000 episodes make a trial last ~0.5 s: the kill, 50 ms after the first result
    # appears, lands while the second runs even on a loaded machine (2-episode trials
    # took 17 ms each, and all three were done before the kill under load).
    spec = _write(tmp_path, {**BASE, "options": {**BASE["options"], "episodes": 3000},
                             "seeds": [0, 1, 2]})
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "tacsuite", "sweep", spec, "--workers", "1", "--out", str(out)]
    driver = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    while not list(out.glob("*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    first = _result_mtimes(out)
    assert 1 <= len(first) < 3, first  # killed mid-way
    time.sleep(0.5)  # the trial it was running dies with it (no orphan finishes later)
    assert _result_mtimes(out) == first
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(first)} finished" in done.stdout
    assert f"ran {3 - len(first)} trials" in done.stdout
    final = _result_mtimes(out)
    assert set(final) == {f"lsvi-ucb,seed={s}" for s in range(3)}
    assert all(final[k] == v for k, v in first.items())  # finished results untouched
    for name in final:  # one run per folder, for its own seed
        config = json.loads((out / name / "config.json").read_text())
        assert config["config"]["seed"] == int(name[-1])


def test_a_second_driver_on_the_same_folder_is_refused(tmp_path, capsys):
    import fcntl

    out = tmp_path / "sweep"
    out.mkdir()
    with open(out / ".sweep.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert main(["sweep", _write(tmp_path, BASE), "--out", str(out)]) == 2
    assert "another `tacsuite sweep` is running" in capsys.readouterr().err
    assert not (out / "lsvi-ucb,seed=0").exists()


def test_a_killed_worker_fails_only_its_trial_and_retry_completes_the_sweep(tmp_path):
    # Trials long enough to be caught running (a worker's first trial also imports torch);
    # the sweep's 2 workers each log their process id at the top of the trial's log.
    spec = _write(tmp_path, {**BASE, "options": {**BASE["options"], "episodes": 60},
                             "seeds": [0, 1, 2]})
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "tacsuite", "sweep", spec, "--workers", "2", "--out", str(out)]
    driver = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim, deadline = None, time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        for log in sorted(out.glob("logs/*.log")):
            first = log.read_text().split("\n", 1)[0]
            if first.startswith("# worker process ") and not (
                    out / log.stem / "result.json").exists():
                victim = (log.stem, int(first.split()[-1]))
                break
        time.sleep(0.02)
    assert victim is not None, "no trial seen running"
    os.kill(victim[1], signal.SIGKILL)
    text, _ = driver.communicate(timeout=180)
    assert driver.returncode == 1, text
    assert f"{victim[0]}: FAILED (worker killed by SIGKILL)" in text
    failed = json.loads((out / "failed" / f"{victim[0]}.json").read_text())
    assert failed["exit_status"] == -signal.SIGKILL and "SIGKILL" in failed["error"]
    others = _result_mtimes(out)
    assert set(others) == {f"lsvi-ucb,seed={s}" for s in range(3)} - {victim[0]}
    done = subprocess.run(cmd + ["--retry-failed"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 finished" in done.stdout and "ran 1 trials" in done.stdout
    final = _result_mtimes(out)
    assert len(final) == 3 and all(final[k] == v for k, v in others.items())
    assert not list((out / "failed").glob("*.json"))


def _without_timing(obj):
    if isinstance(obj, dict):
        return {k: _without_timing(v) for k, v in obj.items()
                if "seconds" not in k and not k.startswith("ms_")}
    if isinstance(obj, list):
        return [_without_timing(v) for v in obj]
    return obj


def test_local_and_ray_engines_give_the_same_trials(tmp_path):
    pytest.importorskip("ray.tune")
    import numpy as np

    # episodes=0 is refused: both engines record that trial as failed, with exit status 2.
    spec = _write(tmp_path, {**BASE, "algo": ["lsvi-ucb", "dr-rpo"], "seeds": [0, 1],
                             "grid": {"episodes": [5, 0]}, "resources": {"cpu": 1}})
    outs = {}
    for engine in ("local", "ray"):
        outs[engine] = tmp_path / engine
        argv = ["sweep", spec, "--engine", engine, "--workers", "2", "--out", str(outs[engine])]
        assert main(argv) == 1, engine
        failed = sorted((outs[engine] / "failed").glob("*.json"))
        assert [p.stem for p in failed] == ["dr-rpo,episodes=0,seed=0", "dr-rpo,episodes=0,seed=1",
                                            "lsvi-ucb,episodes=0,seed=0",
                                            "lsvi-ucb,episodes=0,seed=1"], engine
        assert all(json.loads(p.read_text())["exit_status"] == 2 for p in failed), engine
    names = sorted(p.parent.name for p in outs["local"].glob("*/result.json"))
    assert len(names) == 4
    assert names == sorted(p.parent.name for p in outs["ray"].glob("*/result.json"))
    for name in names:
        a, b = (json.loads((outs[e] / name / "result.json").read_text()) for e in outs)
        assert _without_timing(a) == _without_timing(b), name
        assert np.array_equal(*(np.load(outs[e] / name / "returns.npy") for e in outs))
        header = (outs["ray"] / "logs" / f"{name}.log").read_text().split("\n", 1)[0]
        assert header.startswith("# ray trial process")


def test_per_algo_options_and_list_options_become_flags(tmp_path, capsys):
    spec = {"command": "train", "algo": {"bc": {"epochs": 3, "hidden": [8, 8]},
                                         "iql": {"steps": 20}},
            "options": {"eval_episodes": 2}, "seeds": [1]}
    bc, iql = sweepspec.trials(spec)
    assert bc.argv("o") == ["train", "bc", "--eval-episodes", "2", "--epochs", "3", "--hidden",
                            "8", "8", "--seed", "1", "--out", "o"]
    assert iql.options == {"eval_episodes": 2, "steps": 20}
    for change, words in (({"bc": {"steps": 3}}, ["'algo.bc.steps'", "unknown option"]),
                          ({"bc": {"hidden": 8}}, ["'algo.bc.hidden'", "list"]),
                          ({"bc": {"hidden": [8, "x"]}}, ["'algo.bc.hidden'", "int"])):
        assert main(["sweep", _write(tmp_path, {**spec, "algo": change}), "--out",
                     str(tmp_path / "s")]) == 2
        err = capsys.readouterr().err
        assert all(w in err for w in words), (words, err)


def test_lsd_learn_trials_run_as_a_sweep_and_report(tmp_path):
    from tacsuite.envs.lsd_instance import random_instance

    inst = tmp_path / "inst.json"
    inst.write_text(json.dumps(random_instance(2, 2, 60, rng=0).to_dict()))
    spec = _write(tmp_path, {"command": "lsd learn", "algo": ["ucb1", "lp-ucb"],
                             "options": {"instance": str(inst), "planner_draws": 2},
                             "seeds": [0, 1]})
    out = tmp_path / "sweep"
    assert main(["sweep", spec, "--workers", "2", "--out", str(out)]) == 0
    for algo in ("ucb1", "lp-ucb"):
        for seed in (0, 1):
            res = json.loads((out / f"{algo},seed={seed}" / "result.json").read_text())
            assert res["algo"] == algo and res["seed"] == seed and res["horizon"] == 60
    assert main(["report", str(out), "--metric", "regret_vs_planner"]) == 0
    rep = json.loads((out / "report" / "report.json").read_text())
    assert {k: g["n"] for k, g in rep["groups"].items()} == {"ucb1": 2, "lp-ucb": 2}
