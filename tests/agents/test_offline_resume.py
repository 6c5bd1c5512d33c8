"""Offline agents killed mid-training resume from their last checkpoint to the very weights,
curves and evaluation of the uninterrupted run (CPU torch on one thread is deterministic,
so the comparison is exact)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tacsuite.agents import bc, dt_lite, iql, mbrcsl, rcsl
from tacsuite.agents.common import offline, saved

SMALL = dict(dataset="gridstitch-optimal", eval_episodes=2, seed=3)
CASES = {
    "bc": (bc, dict(epochs=10, hidden=(16,), batch=64), 4),
    "rcsl": (rcsl, dict(epochs=10, hidden=(16,), batch=64), 7),
    "iql": (iql, dict(steps=50, log_every=10, hidden=(16,), batch=32), 2),
    "dt-lite": (dt_lite, dict(epochs=4, context=3, embed=8, layers=1, heads=1, batch=256), 2),
    "mbrcsl": (mbrcsl, dict(model_hidden=(16,), model_epochs=1, model_members=2,
                            model_elites=1, behavior_hidden=(16,), behavior_epochs=1,
                            rcsl_hidden=(16,), rcsl_epochs=10, rollout_batch=20,
                            max_rounds=1, keep=5), 3),
}


@pytest.fixture(scope="module", autouse=True)
def minari_root(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MINARI_DATASETS_PATH", str(tmp_path_factory.mktemp("minari")))
    yield
    mp.undo()


class Killed(Exception):
    """Stands for a SIGKILL right after a checkpoint was committed."""


def _kill_after(monkeypatch, k: int | None) -> list[int]:
    """Count the checkpoints written (the count is returned); raise Killed after the k-th."""
    real, count = saved.save_agent, [0]

    def save(folder, kind, meta, arrays, name=saved.AGENT):
        head = real(folder, kind, meta, arrays, name=name)
        if kind == offline.CHECKPOINT_KIND:
            count[0] += 1
            if count[0] == k:
                raise Killed
        return head

    monkeypatch.setattr(saved, "save_agent", save)
    return count


def _lines(path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text().splitlines()]


@pytest.mark.parametrize("name", list(CASES))
def test_a_killed_offline_run_resumes_to_the_uninterrupted_result(name, tmp_path,
                                                                  monkeypatch):
    module, options, k = CASES[name]
    with monkeypatch.context() as mp:
        written = _kill_after(mp, None)
        straight = module.train(module.Config(out=str(tmp_path / "a"), **SMALL, **options))
    assert written[0] > k
    with monkeypatch.context() as mp:
        _kill_after(mp, k)
        with pytest.raises(Killed):
            module.train(module.Config(out=str(tmp_path / "b"), **SMALL, **options))
    assert not saved.has_agent(tmp_path / "b")
    ckpt = next((tmp_path / "b").glob("checkpoint_*.json"))
    done = json.loads(ckpt.read_text())["meta"]["done"]
    assert 0 < done < json.loads(ckpt.read_text())["meta"]["total"]
    with monkeypatch.context() as mp:
        again = _kill_after(mp, None)
        resumed = module.train(module.Config(out=str(tmp_path / "b"), resume=True, **SMALL,
                                             **options))
    assert again[0] == written[0] - k  # it continued from checkpoint k, not from scratch
    _, meta_a, arrays_a = saved.load_agent(tmp_path / "a")
    _, meta_b, arrays_b = saved.load_agent(tmp_path / "b")
    assert sorted(arrays_a) == sorted(arrays_b)
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
    assert meta_a["curves"] == meta_b["curves"]
    assert resumed["eval_return"] == straight["eval_return"]
    assert _lines(tmp_path / "a" / "metrics.jsonl") == _lines(tmp_path / "b" / "metrics.jsonl")


def test_resuming_with_other_epochs_is_refused(tmp_path, monkeypatch):
    options = dict(hidden=(16,), batch=64, **SMALL)
    with monkeypatch.context() as mp:
        _kill_after(mp, 3)
        with pytest.raises(Killed):
            bc.train(bc.Config(out=str(tmp_path), epochs=10, **options))
    with pytest.raises(ValueError, match="epochs"):
        bc.train(bc.Config(out=str(tmp_path), epochs=5, resume=True, **options))
