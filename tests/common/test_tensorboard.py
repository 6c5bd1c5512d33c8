"""`tacsuite train ... --tensorboard`: event files with CleanRL's tags beside metrics.jsonl."""

from __future__ import annotations

import json

import pytest

from tacsuite.cli import main
from tacsuite.common import tblog


def test_tags_follow_cleanrl():
    step, values = tblog.scalars({"step": 200, "train_episode_return": 3.0, "q_loss": 0.5,
                                  "holdout_mse": 0.1, "eval_score": 0.7, "seconds": 4.0,
                                  "stage": "dynamics", "elites": [1, 2], "flag": True}, 9)
    assert step == 200
    assert values == {"charts/episodic_return": 3.0, "losses/q_loss": 0.5,
                      "losses/holdout_mse": 0.1, "charts/eval_score": 0.7,
                      "charts/seconds": 4.0, "charts/SPS": 50.0}
    assert tblog.scalars({"loss": 1.0}, 7) == (7, {"losses/loss": 1.0})  # no step: line number


def _metrics(out):
    return [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]


def test_every_logged_line_is_in_the_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    out = tmp_path / "dqn"
    assert main(["train", "er-dqn", "--env", "tacsuite/RobustCartPole-v0", "--steps", "150",
                 "--start-steps", "50", "--eval-every", "50", "--eval-episodes", "2",
                 "--hidden", "16", "16", "--out", str(out), "--tensorboard"]) == 0
    board = tblog.read_scalars(out / "tensorboard")
    lines = _metrics(out)
    assert [s for s, _ in board["charts/eval_score"]] == [row["step"] for row in lines]
    for tag, key in (("charts/eval_score", "eval_score"), ("losses/q_loss", "q_loss"),
                     ("charts/episodic_return", "train_episode_return")):
        got = [v for _, v in board[tag]]
        assert got == pytest.approx([row[key] for row in lines if key in row], rel=1e-6), tag
    assert all(v > 0 for _, v in board["charts/SPS"])
    # A linear trainer, through the same hook; without the flag no event files.
    lin = tmp_path / "lin"
    assert main(["train", "lsvi-ucb", "--env", "tacsuite/SimulatedLinearMDP-v0",
                 "--episodes", "3", "--out", str(lin), "--tensorboard"]) == 0
    board = tblog.read_scalars(lin / "tensorboard")
    rows = _metrics(lin)
    assert [s for s, _ in board["charts/mean_return"]] == [r["episode"] for r in rows]
    assert [v for _, v in board["charts/mean_return"]] == pytest.approx(
        [r["mean_return"] for r in rows], rel=1e-6)
    plain = tmp_path / "plain"
    assert main(["train", "lsvi-ucb", "--env", "tacsuite/SimulatedLinearMDP-v0",
                 "--episodes", "3", "--out", str(plain)]) == 0
    assert not (plain / "tensorboard").exists()
