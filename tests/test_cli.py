import json
import subprocess
import sys

import pytest

from tacsuite.cli import COMMANDS, main


def test_top_level_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as info:
        rc = main([name, "--help"])
        raise SystemExit(rc)
    assert info.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_unknown_command(capsys):
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err


def test_envs_lists_every_id(capsys):
    from tacsuite.envs.registration import registered_ids

    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for env_id in registered_ids():
        assert env_id in out


def test_python_dash_m_and_demo_part(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tacsuite", "demo", "--out", str(tmp_path),
                          "--only", "river_swim"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    part = summary["parts"]["river_swim"]
    assert (tmp_path / part["png"]).stat().st_size > 1000
    # The optimal policy's empirical gain approaches the exact optimum.
    assert part["optimal (always right)"]["empirical_gain"] == pytest.approx(
        part["optimal_gain"], abs=0.05)


def test_demo_rejects_unknown_part(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--only", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_train_table_reaches_offline_agents(tmp_path, capsys):
    from tacsuite.commands.train import TRAINERS

    assert {"mbrcsl", "rcsl", "bc", "pbc", "iql", "dt-lite", "dr-rpo"} <= set(TRAINERS)
    assert main(["train", "bc", "--epochs", "1", "--eval-episodes", "1",
                 "--out", str(tmp_path / "bc")]) == 0
    result = json.loads((tmp_path / "bc" / "result.json").read_text())
    assert {"eval_return", "normalized_score", "success_rate", "seconds"} <= set(result)


def test_env_table_lists_optional_envs_with_their_extra():
    from tacsuite.commands.envs import env_table_markdown

    assert "`tacsuite/PointMazeStitch-v0`" in env_table_markdown()
    assert "needs the `mujoco` extra" in env_table_markdown()
