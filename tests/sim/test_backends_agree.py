"""Taichi and Quadrants run the same world to the same numbers (float64, 1e-6 relative).

Each compiler runs `tests.sim.backend_probe` in its own process (a process holds one
compiler); the press forces, the slide forces and the reverse-mode gradient of a rollout
loss are compared figure by figure. Runs in `make test-quadrants`, where both are
installed.
"""

import json
import os
import subprocess
import sys
from importlib import util
from pathlib import Path

import numpy as np
import pytest

from tacsuite.sim.backend import BACKENDS, requested_backend

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-6

pytestmark = pytest.mark.skipif(
    requested_backend() != "quadrants" or any(util.find_spec(b) is None for b in BACKENDS),
    reason="compares both compilers; runs in `make test-quadrants`")


def _probe(name: str) -> subprocess.Popen:
    env = {**os.environ, "TACSUITE_BACKEND": name, "TACSUITE_ARCH": "cpu"}
    return subprocess.Popen([sys.executable, "-m", "tests.sim.backend_probe"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_forces_and_gradients_agree_between_taichi_and_quadrants():
    procs = {name: _probe(name) for name in BACKENDS}
    res = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, f"{name} probe failed:\n{err[-3000:]}"
        res[name] = json.loads(out.strip().splitlines()[-1])
        assert res[name]["backend"] == name
    assert res["taichi"]["pid"] != res["quadrants"]["pid"]
    ti, qd = res["taichi"]["figures"], res["quadrants"]["figures"]
    assert sorted(ti) == sorted(qd)
    for key in ("press force", "slide force", "dgel.E", "dpress.kn", "dball actions"):
        assert np.abs(ti[key]).max() > 0, f"{key} is zero: the probe checks nothing"
    # Friction acts in the slide, so the tangential force is part of what is compared.
    assert np.abs(np.array(ti["slide force"])[:, 0, 0]).max() > 0
    bad = []
    for key in ti:
        a, b = np.array(qd[key]), np.array(ti[key])
        scale = np.abs(b).max()
        err = np.abs(a - b).max() / scale if scale > 0 else np.abs(a).max()
        if not err <= RTOL:
            bad.append(f"{key}: {err:.2e}")
    assert not bad, f"Quadrants differs from Taichi by more than {RTOL:g} relative: {bad}"
