"""`tacsuite lsd plan` and `tacsuite lsd learn` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tacsuite.cli import main
from tacsuite.envs.lsd_instance import load_instance
from tacsuite.theory.lsd import finite_horizon_optimum, sequence_rewards

INSTANCE = {"horizon": 300, "tau_max": 3,
            "arms": [{"satiated": [0.5, 0.4, 0.3], "rested": [0.6, 0.7, 0.8]},
                     {"satiated": [0.2, 0.1, 0.0], "rested": [0.3, 0.6, 0.95]}]}


@pytest.fixture()
def instance_file(tmp_path):
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(INSTANCE))
    return path


@pytest.mark.parametrize("planner", ["exact", "lp-rounding", "greedy"])
def test_plan_writes_actions_reward_and_bound(instance_file, tmp_path, planner):
    out = tmp_path / "plan.json"
    assert main(["lsd", "plan", str(instance_file), "--planner", planner, "--seed", "3",
                 "--out", str(out)]) == 0
    plan = json.loads(out.read_text())
    assert set(plan) == {"actions", "expected_reward", "upper_bound"}
    inst = load_instance(instance_file)
    assert len(plan["actions"]) == 300
    value = sequence_rewards(inst.satiated, inst.rested, inst.initial_state, plan["actions"])
    assert plan["expected_reward"] == pytest.approx(value.sum())
    opt = finite_horizon_optimum(inst.satiated, inst.rested, inst.initial_state, 300,
                                 actions=False).value
    assert plan["expected_reward"] <= opt + 1e-9 <= plan["upper_bound"] + 2e-9
    if planner == "exact":
        assert plan["expected_reward"] == pytest.approx(opt)


def test_learn_writes_rewards_regret_and_result(instance_file, tmp_path):
    out = tmp_path / "run"
    assert main(["lsd", "learn", str(instance_file), "--algo", "lp-ucb", "--seed", "1",
                 "--out", str(out)]) == 0
    rewards = np.load(out / "rewards.npy")
    regret = np.load(out / "regret.npy")
    result = json.loads((out / "result.json").read_text())
    assert rewards.shape == (300,) and set(np.unique(rewards)) <= {0.0, 1.0}
    assert regret.shape == (300, 2) and np.all(np.isfinite(regret))
    assert result["total_reward"] == pytest.approx(rewards.sum())
    assert result["regret_vs_exact"] == pytest.approx(regret[-1, 1])
    # regret vs the exact optimum = optimum - pseudo-reward of the learner
    assert result["exact_optimum"] - result["total_expected_reward"] == \
        pytest.approx(result["regret_vs_exact"])
    assert (out / "config.json").exists() and (out / "metrics.jsonl").exists()


@pytest.mark.parametrize("argv, message", [
    (["plan", "MISSING"], "does not exist"),
    (["learn", "INST", "--algo-kwargs", "bogus=1"], "unknown --algo-kwargs"),
    (["plan", "BAD"], "unknown keys"),
])
def test_bad_input_exits_2_with_a_clear_message(argv, message, instance_file, tmp_path,
                                                capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**INSTANCE, "oops": 1}))
    subs = {"MISSING": str(tmp_path / "missing.json"), "INST": str(instance_file),
            "BAD": str(bad)}
    argv = [subs.get(a, a) for a in argv] + ["--out", str(tmp_path / "o")]
    assert main(["lsd", *argv]) == 2
    assert message in capsys.readouterr().err


def test_recharging_planner_rejects_instances_with_satiation(instance_file, tmp_path, capsys):
    assert main(["lsd", "plan", str(instance_file), "--planner", "recharging",
                 "--out", str(tmp_path / "p.json")]) == 2
    assert "delay-only" in capsys.readouterr().err


def test_horizons_beyond_memory_are_refused_with_the_estimate(tmp_path, capsys):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({**INSTANCE, "horizon": 10**12}))
    for argv in (["plan", str(path), "--out", str(tmp_path / "p.json")],
                 ["learn", str(path), "--algo", "combucb1", "--out", str(tmp_path / "r")]):
        assert main(["lsd", *argv]) == 2
        err = capsys.readouterr().err
        assert "horizon 1e+12 needs about" in err and "GB of memory" in err
    assert not (tmp_path / "p.json").exists() and not (tmp_path / "r").exists()


def test_learn_combucb1(instance_file, tmp_path):
    out = tmp_path / "cb"
    assert main(["lsd", "learn", str(instance_file), "--algo", "combucb1", "--algo-kwargs",
                 "d=3", "--out", str(out)]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["algo"] == "combucb1" and result["horizon"] == 300
