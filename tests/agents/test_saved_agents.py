"""Saved agents are data: every agent can be evaluated from its run folder and resumed;
no pickle is ever loaded; damaged, foreign and other-version files are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tacsuite.agents import bc, dr_rpo, dt_lite, iql, mbrcsl, rcsl
from tacsuite.agents.common import saved
from tacsuite.cli import main

PUT = dict(env="tacsuite/AmericanPutOption-v0", env_kwargs="d=10", rho=0.02, seed=0)
TINY = {
    "bc": (bc, dict(epochs=2, hidden=(16,))),
    "rcsl": (rcsl, dict(epochs=2, hidden=(16,))),
    "iql": (iql, dict(steps=40, log_every=20, hidden=(16,))),
    "dt-lite": (dt_lite, dict(epochs=1, context=3, embed=8, layers=1, heads=1, batch=256)),
    "mbrcsl": (mbrcsl, dict(model_hidden=(16,), model_epochs=1, model_members=2,
                            model_elites=1, behavior_hidden=(16,), behavior_epochs=1,
                            rcsl_hidden=(16,), rcsl_epochs=1, rollout_batch=20, max_rounds=1,
                            keep=5)),
}


@pytest.fixture(scope="module", autouse=True)
def minari_root(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MINARI_DATASETS_PATH", str(tmp_path_factory.mktemp("minari")))
    yield
    mp.undo()


def _eval_json(capsys, argv) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(TINY))
def test_offline_agents_are_evaluated_from_their_run_folder(name, tmp_path, capsys):
    module, options = TINY[name]
    out = tmp_path / name
    small = dict(dataset="gridstitch-optimal", eval_episodes=3)  # 20 episodes: fast reads
    r = module.train(module.Config(seed=0, out=str(out), **small, **options))
    assert saved.load_agent(out)[0] in ("mlp-actor", "dt-lite")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    res = _eval_json(capsys, ["evaluate", str(out), "--episodes", "3", "--seed", "0"])
    # the saved actor is the trained one: same episodes, same returns
    assert res["mean"] == pytest.approx(r["eval_return"], abs=1e-6)
    assert (out / "eval" / "tacsuite_GridStitch-v0" / "result.json").is_file()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    # --resume reuses the saved agent: no training, same result
    lines = (out / "metrics.jsonl").read_text()
    again = module.train(module.Config(seed=0, out=str(out), resume=True, **small, **options))
    assert again["eval_return"] == r["eval_return"]
    assert (out / "metrics.jsonl").read_text() == lines


def test_linear_agent_size_does_not_grow_with_training(tmp_path):
    sizes = []
    for k in (20, 80):
        dr_rpo.train(dr_rpo.Config(episodes=k, out=str(tmp_path / f"k{k}"), **PUT))
        head = json.loads((tmp_path / f"k{k}" / "agent.json").read_text())
        sizes.append(head["bytes"])
    assert sizes[0] == sizes[1] < 200_000  # H x d x d floats, not the visited states


def test_linear_resume_continues_exactly(tmp_path):
    dr_rpo.train(dr_rpo.Config(episodes=30, out=str(tmp_path / "a"), **PUT))
    dr_rpo.train(dr_rpo.Config(episodes=10, out=str(tmp_path / "b"), **PUT))
    r = dr_rpo.train(dr_rpo.Config(episodes=30, out=str(tmp_path / "b"), resume=True, **PUT))
    assert r["resumed_at_episode"] == 10
    np.testing.assert_array_equal(np.load(tmp_path / "a" / "returns.npy"),
                                  np.load(tmp_path / "b" / "returns.npy"))
    assert json.loads((tmp_path / "a" / "agent.json").read_text())["sha256"] == \
        json.loads((tmp_path / "b" / "agent.json").read_text())["sha256"]
    with pytest.raises(ValueError, match=r"rho=0.02 \(now 0.5\)"):
        dr_rpo.train(dr_rpo.Config(episodes=30, out=str(tmp_path / "b"), resume=True,
                                   **dict(PUT, rho=0.5)))


def test_a_pickle_in_a_run_folder_is_never_loaded(tmp_path, capsys):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": {"env": PUT["env"]}}))
    (run / "agent.pkl").write_bytes(pickle.dumps(Payload()))
    assert main(["evaluate", str(run), "--episodes", "2"]) == 2
    assert "pickles are never loaded" in capsys.readouterr().err
    assert not marker.exists()


def test_damaged_foreign_and_other_version_agents_are_refused(tmp_path):
    saved.save_agent(tmp_path, "linear", {"a": 1}, {"w": np.arange(1000.0)})
    head = json.loads((tmp_path / "agent.json").read_text())
    data = tmp_path / head["file"]
    assert saved.load_agent(tmp_path)[2]["w"][-1] == 999.0
    blob = data.read_bytes()
    data.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(saved.SavedAgentError, match="truncated"):
        saved.load_agent(tmp_path)
    data.write_bytes(blob)
    (tmp_path / "agent.json").write_text(json.dumps(dict(head, version=99)))
    with pytest.raises(saved.SavedAgentError, match="version 99.*reads version 1"):
        saved.load_agent(tmp_path)
    (tmp_path / "agent.json").write_text(json.dumps(dict(head, format="other")))
    with pytest.raises(saved.SavedAgentError, match="not a saved tacsuite agent"):
        saved.load_agent(tmp_path)
    (tmp_path / "agent.json").write_text(json.dumps(dict(head, file="../elsewhere.npz")))
    with pytest.raises(saved.SavedAgentError, match="own folder"):
        saved.load_agent(tmp_path)
    (tmp_path / "agent.json").write_text("{torn")
    with pytest.raises(saved.SavedAgentError, match="not a saved tacsuite agent"):
        saved.load_agent(tmp_path)
    (tmp_path / "agent.json").write_text(json.dumps(head))
    with pytest.raises(saved.SavedAgentError, match="expected one of dt-lite"):
        saved.load_agent(tmp_path, kinds=("dt-lite",))


def test_evaluate_never_writes_into_the_training_run(tmp_path, capsys):
    out = tmp_path / "put"
    dr_rpo.train(dr_rpo.Config(episodes=10, out=str(out), **PUT))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main(["evaluate", str(out), "--out", str(out), "--overwrite"]) == 2
    assert "own folder" in capsys.readouterr().err
    assert main(["evaluate", str(out), "--out", str(tmp_path)]) == 2
    res = _eval_json(capsys, ["evaluate", str(out), "--env-kwargs", "p=0.3", "--episodes",
                              "5"])
    assert res["env_kwargs"] == {"d": 10, "p": 0.3}  # the training env's d, then the shift
    ev = out / "eval" / "tacsuite_AmericanPutOption-v0-d=10,p=0.3"
    assert json.loads((ev / "result.json").read_text())["mean"] == res["mean"]
    # evaluating again replaces its own default folder; the run is untouched throughout
    _eval_json(capsys, ["evaluate", str(out), "--env-kwargs", "p=0.3", "--episodes", "5"])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_evaluate_refuses_an_env_the_agent_cannot_act_in(tmp_path, capsys):
    out = tmp_path / "bc"
    bc.train(bc.Config(seed=0, out=str(out), dataset="gridstitch-optimal", eval_episodes=1,
                       epochs=1, hidden=(8,)))
    assert main(["evaluate", str(out), "--env", "tacsuite/AmericanPutOption-v0"]) == 2
    assert "acts on observations of shape (2,)" in capsys.readouterr().err


def test_a_killed_training_run_resumes_to_the_uninterrupted_result(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    argv = ["train", "dr-rpo", "--env", PUT["env"], "--env-kwargs", PUT["env_kwargs"],
            "--rho", "0.02", "--episodes", "100", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "tacsuite", *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.json").exists() and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    if (out / "result.json").exists():
        pytest.skip("the run finished before it could be killed")
    assert main(argv + ["--resume"]) == 0
    r = json.loads((out / "result.json").read_text())
    assert 0 < r["resumed_at_episode"] < 100
    straight = dr_rpo.train(dr_rpo.Config(episodes=100, out=str(tmp_path / "straight"),
                                          **PUT))
    np.testing.assert_array_equal(np.load(out / "returns.npy"),
                                  np.load(tmp_path / "straight" / "returns.npy"))
    assert r["mean_return"] == straight["mean_return"]
    assert (out / "metrics.jsonl").read_text().count("\n") == \
        (tmp_path / "straight" / "metrics.jsonl").read_text().count("\n")
