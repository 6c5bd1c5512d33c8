"""The model-generalization reproduction and benchmark scripts run end to end (slow:
`make test-slow`; each starts a fresh interpreter)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_reproduction_tiny_configuration_and_resume(tmp_path):
    args = ("--envs", "PanFlute", "--agents", "er-dqn,perfect-model-dqn", "--seeds", "2",
            "--steps", "80", "--start-steps", "40", "--out", str(tmp_path))
    out = run("reproduce_model_generalization.py", *args)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    row = res["table"]["PanFlute"]["perfect-model-dqn"]
    assert row["metric"] == "reward_rate" and row["updates"] == 40 and len(row["finals"]) == 2
    assert (tmp_path / "learning_curves.png").stat().st_size > 1000
    assert "| PanFlute (reward_rate) | er-dqn |" in (tmp_path / "table.md").read_text()
    again = run("reproduce_model_generalization.py", *args, "--resume")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "result.json").read_text())["table"] == res["table"]


@pytest.mark.slow
def test_reproduction_rejects_unknown_names(tmp_path):
    out = run("reproduce_model_generalization.py", "--envs", "Atari", "--out", str(tmp_path))
    assert out.returncode != 0 and "unknown name 'Atari'" in out.stderr


@pytest.mark.slow
def test_bench_writes_every_env(tmp_path):
    out = run("bench_modelgen.py", "--steps", "200", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    assert len(res["rows"]) == 6 and all(r["unwrapped_steps_per_s"] > 0
                                         for r in res["rows"].values())
    assert (tmp_path / "steps_per_second.png").stat().st_size > 1000
