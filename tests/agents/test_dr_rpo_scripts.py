"""The reproduction and benchmark scripts run end to end (the full runs are slow: `make
test-slow`), and a reproduction rerun keeps its finished sweep trials."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_reproduce_quick_linear_part(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "reproduce_dr_rpo.py"),
                          "--quick", "--parts", "linear", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "training runs" not in out.stderr  # the progress bar is off when not a TTY
    res = json.loads((tmp_path / "result.json").read_text())
    lin = res["linear"]["exact_value"]
    assert lin["dr-lsvi-ucb"]["0.8"]["iqm"] > lin["lsvi-ucb"]["0.8"]["iqm"] + 0.2
    assert (tmp_path / res["png"]).stat().st_size > 1000


@pytest.mark.slow
def test_bench_quick(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_dr_rpo.py"), "--quick",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["episodes"] == 2000 and len(res["cost_curve_ms"]) == 100


def _script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reproduction_reruns_no_finished_trial_and_refuses_a_changed_spec(tmp_path, capsys):
    # The put part of the quick spec with one seed: three trials, then the same OUT again.
    script = _script("reproduce_dr_rpo")
    argv = ["--quick", "--parts", "put", "--seeds", "1", "--out", str(tmp_path)]
    script.main(argv)
    first = json.loads((tmp_path / "result.json").read_text())
    runs = sorted((tmp_path / "sweep" / "put").glob("*/result.json"))
    assert [p.parent.name for p in runs] == ["dr-lsvi-ucb,seed=0", "dr-rpo,seed=0",
                                             "lsvi-ucb,seed=0"]
    stamps = [p.stat().st_mtime_ns for p in runs]
    capsys.readouterr()
    script.main(argv)
    assert "3 trials, 3 finished" in capsys.readouterr().out
    assert [p.stat().st_mtime_ns for p in runs] == stamps
    again = json.loads((tmp_path / "result.json").read_text())
    assert again["put"] == first["put"]  # scored from the same folders, same test seeds
    # Other training options under the same OUT would mix stale trials in: refused.
    (tmp_path / "specs" / "put.json").write_text(
        (tmp_path / "specs" / "put.json").read_text().replace('"episodes": 60',
                                                              '"episodes": 61'))
    with pytest.raises(SystemExit, match="options differ"):
        script.main(argv)
