"""MBPO's loop on a tiny run: checkpoints, --resume continuing (not restarting), options."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tacsuite.agents import mbpo
from tacsuite.common.runs import RunFolderError

TINY = dict(env="tacsuite/PendulumDistractor-v0", env_kwargs="distractors=2", steps=400,
            start_steps=100, model_every=100, model_width=16, model_layers=1, members=2,
            elites=1, model_epochs=2, rollouts_per_step=4, rollout_schedule=(100, 400, 1, 2),
            updates_per_step=1, sac_hidden=(16, 16), batch=32, eval_every=200,
            curve_episodes=1, eval_episodes=1, checkpoint_every=200, mse_warmup=150)


class Killed(Exception):
    pass


def test_killed_run_resumes_where_it_was_and_ends_with_the_same_numbers(tmp_path,
                                                                        monkeypatch):
    whole = mbpo.train(mbpo.VagramConfig(**TINY, out=str(tmp_path / "whole")))
    assert whole["model_refits"] == 4 and whole["updates"] == 300
    real_checkpoint, refits = mbpo._checkpoint, []

    def checkpoint_then_die(run, sac, model, real, model_buf, rng, state):
        real_checkpoint(run, sac, model, real, model_buf, rng, state)
        if state["t"] == 200:
            raise Killed

    monkeypatch.setattr(mbpo, "_checkpoint", checkpoint_then_die)
    out = str(tmp_path / "killed")
    with pytest.raises(Killed):
        mbpo.train(mbpo.VagramConfig(**TINY, out=out))
    monkeypatch.setattr(mbpo, "_checkpoint", real_checkpoint)
    real_refit = mbpo._refit_and_roll
    monkeypatch.setattr(mbpo, "_refit_and_roll",
                        lambda *a, **k: refits.append(a[8]) or real_refit(*a, **k))
    with pytest.raises(RunFolderError, match="--resume"):
        mbpo.train(mbpo.VagramConfig(**TINY, out=out))
    resumed = mbpo.train(mbpo.VagramConfig(**TINY, out=out, resume=True))
    assert refits == [300, 400], "the resumed run starts from its step-200 checkpoint"
    assert resumed["resumed"] and resumed["updates"] == whole["updates"]
    np.testing.assert_allclose(np.array(resumed["curve"]), np.array(whole["curve"]),
                               rtol=1e-6)
    assert resumed["eval_return"] == pytest.approx(whole["eval_return"], rel=1e-6)
    def steps(folder):
        text = (tmp_path / folder / "metrics.jsonl").read_text()
        return [(rec["step"], rec["event"]) for rec in map(json.loads, text.splitlines())]

    assert steps("killed") == steps("whole"), "lines after the checkpoint logged once"
    with pytest.raises(RunFolderError, match="model_width"):
        mbpo.train(mbpo.VagramConfig(**{**TINY, "model_width": 8}, out=out, resume=True))


def test_bad_options_are_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="loss"):
        mbpo.train(mbpo.Config(**{**TINY, "loss": "vaml"}, out=str(tmp_path / "a")))
    with pytest.raises(ValueError, match="elites"):
        mbpo.train(mbpo.Config(**{**TINY, "elites": 3}, out=str(tmp_path / "b")))
    with pytest.raises(ValueError, match="rollout_schedule"):
        mbpo.train(mbpo.Config(**{**TINY, "rollout_schedule": (100, 400, 0, 2)},
                               out=str(tmp_path / "c")))
    with pytest.raises(ValueError, match="real-ratio"):
        mbpo.train(mbpo.Config(**{**TINY, "real_ratio": 1.5}, out=str(tmp_path / "d")))
    assert not (tmp_path / "a").exists()


def test_rollout_length_schedule():
    c = mbpo.Config(rollout_schedule=(1000, 3000, 1, 5))
    assert [mbpo.rollout_length(c, t) for t in (0, 1000, 2000, 3000, 9000)] == [1, 1, 3, 5, 5]
