"""The average-reward baselines (UCRL2, PSRL, optimistic Q-learning, discounted LSVI)
against the exact gains of the envs, on fixed seeds with small budgets."""

import json

import numpy as np
import pytest

from tacsuite.agents import lsvi_disc, optimistic_q, psrl, ucrl2
from tacsuite.agents.common.continuing import make_env
from tacsuite.cli import main
from tacsuite.theory.average_reward import optimal_gain, policy_gain

SMALL_LINEAR = "n_states=6,n_actions=3,d=3"


def _uniform_gain(env_id, kwargs=""):
    u = make_env(env_id, kwargs).unwrapped
    pi = np.full(u.R.shape, 1 / u.R.shape[1])
    return policy_gain(u.P, u.R, pi)[0][0], optimal_gain(u.P, u.R).gain


def test_psrl_is_near_optimal_on_river_swim():
    res = psrl.train(psrl.Config(out="", steps=10_000, seed=0))
    assert res["regret"] / 10_000 < 0.1 * res["gain_star"]
    assert 0 < res["switches"] <= res["replans"]


def test_ucrl2_is_reproducible_and_optimistic():
    a = ucrl2.train(ucrl2.Config(out="", env="tacsuite/RandomAMDP-v0", steps=3000, seed=2))
    b = ucrl2.train(ucrl2.Config(out="", env="tacsuite/RandomAMDP-v0", steps=3000, seed=2))
    assert {k: v for k, v in a.items() if "second" not in k} == \
        {k: v for k, v in b.items() if "second" not in k}
    assert a["optimistic_fraction"] == 1.0


def test_optimistic_q_beats_the_uniform_policy_on_a_garnet():
    rand, star = _uniform_gain("tacsuite/RandomAMDP-v0")
    res = optimistic_q.train(optimistic_q.Config(out="", env="tacsuite/RandomAMDP-v0", steps=20_000,
                                                 seed=0))
    assert res["total_reward"] / 20_000 > rand + 0.5 * (star - rand)
    assert res["switches"] > 100  # the greedy policy moves after many single steps


def test_lsvi_disc_learns_the_small_linear_amdp():
    rand, star = _uniform_gain("tacsuite/LinearAMDP-v0", SMALL_LINEAR)
    res = lsvi_disc.train(lsvi_disc.Config(out="", env_kwargs=SMALL_LINEAR, steps=12_000, seed=0))
    assert res["regret"] / 12_000 < 0.25 * (star - rand)
    with pytest.raises(ValueError, match="features"):
        lsvi_disc.train(lsvi_disc.Config(out="", env="tacsuite/RiverSwim-v0", steps=10))


@pytest.mark.parametrize("algo,env", [("loop", "tacsuite/ContinuingTaxi-v0"),
                                      ("ucrl2", "tacsuite/RandomAMDP-v0"),
                                      ("psrl", "tacsuite/ContinuingFrozenLake-v0"),
                                      ("optimistic-q", "tacsuite/RiverSwim-v0"),
                                      ("lsvi-disc", "tacsuite/LinearAMDP-v0")])
def test_cli_writes_the_run_folder(algo, env, tmp_path, capsys):
    out = tmp_path / algo
    rc = main(["train", algo, "--env", env, "--steps", "400", "--seed", "1", "--out", str(out),
               "--json"])
    assert rc == 0
    res = json.loads((out / "result.json").read_text())
    for key in ("total_reward", "steps", "switches", "gain_star", "regret", "seconds"):
        assert key in res
    rewards = np.load(out / "rewards.npy")
    switches = np.load(out / "switches.npy")
    assert rewards.shape == (400,) and res["total_reward"] == pytest.approx(rewards.sum())
    assert res["regret"] == pytest.approx(400 * res["gain_star"] - rewards.sum())
    assert switches.size == res["switches"] and np.all((switches >= 1) & (switches <= 400))
    assert (out / "regret.png").stat().st_size > 1000
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["steps"] == 400


def test_cli_rejects_bad_values(tmp_path, capsys):
    assert main(["train", "ucrl2", "--steps", "0", "--out", str(tmp_path / "a")]) == 2
    assert "steps" in capsys.readouterr().err
    assert main(["train", "psrl", "--env", "tacsuite/RobustCartPole-v0", "--steps", "5",
                 "--out", str(tmp_path / "b")]) == 2
    assert "Discrete" in capsys.readouterr().err
