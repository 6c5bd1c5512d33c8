"""The reproduction and benchmark scripts run end to end (slow: `make test-slow`)."""

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
