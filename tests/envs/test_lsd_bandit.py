"""LSD instance format and validation, and the two LSD environments."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from tacsuite.envs.lsd_instance import (
    laforgue_instances,
    load_instance,
    parse_instance,
    random_instance,
    recharging_instance,
)
from tacsuite.theory.lsd import sequence_rewards

GOOD = {"horizon": 50, "tau_max": 3,
        "arms": [{"satiated": [0.5, 0.4, 0.3], "rested": [0.6, 0.7, 0.8]},
                 {"satiated": [0.2, 0.2, 0.1], "rested": [0.3, 0.5, 0.9]}]}


def test_good_instance_round_trips_through_a_file(tmp_path):
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(GOOD))
    inst = load_instance(path)
    assert (inst.k, inst.tau_max, inst.horizon) == (2, 3, 50)
    assert inst.initial_idle == (3, 3) and inst.is_monotone
    assert parse_instance(inst.to_dict()).to_dict() == inst.to_dict()


@pytest.mark.parametrize("change, message", [
    ({"arms": [{"satiated": [0.5, 0.4], "rested": [0.6, 0.7, 0.8]}]},
     r"arms\[0\].satiated must be a list of tau_max=3 numbers, got 2 values"),
    ({"arms": [{"satiated": [0.5, 0.4, 1.3], "rested": [0.6, 0.7, 0.8]}]},
     r"arms\[0\].satiated\[2\] = 1.3 is outside \[0, 1\]"),
    ({"horizon": 0}, r"horizon must be an integer >= 1, got 0"),
    ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ({"arms": [{"satiated": [0.5] * 3, "rested": [0.6] * 3, "extra": 1}]},
     r"arms\[0\] has unknown keys \['extra'\]"),
    ({"initial_idle": [1]}, r"initial_idle must be a list of 2 integers"),
    ({"initial_idle": [1, -1]}, r"initial_idle\[1\] must be an integer >= 0"),
    ({"tau_max": 0}, r"tau_max must be an integer >= 1"),
    ({"noise": "poisson"}, r"noise 'poisson' is not one of"),
    ({"sigma": 0.2}, r"sigma is only allowed with noise 'gaussian'"),
    ({"arms": []}, r"arms must be a non-empty list"),
])
def test_malformed_instances_are_rejected_clearly(change, message):
    with pytest.raises(ValueError, match=message):
        parse_instance({**GOOD, **change})


def test_gaussian_instances_accept_means_outside_unit_interval():
    arms = [{"satiated": [1.5, 1.2, -0.3], "rested": [2, 2, 2]}]
    inst = parse_instance({**GOOD, "arms": arms, "noise": "gaussian", "sigma": 0.5})
    assert inst.noise == "gaussian" and inst.sigma == 0.5


def test_missing_file_and_bad_json(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_instance(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{horizon: 3")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_instance(bad)


def test_random_monotone_instances_are_monotone():
    for seed in range(20):
        assert random_instance(3, 4, 10, seed).is_monotone
    assert not all(random_instance(3, 4, 10, s, monotone=False).is_monotone for s in range(5))


def test_env_follows_the_model_and_reports_expected_rewards():
    env = gym.make("tacsuite/LSDBandit-v0", instance=GOOD)
    inst = env.unwrapped.instance
    obs, info = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [3, 3])
    np.testing.assert_allclose(info["expected_rewards"], [0.8, 0.9])
    acts = [0, 0, 1, 0, 0, 0, 0, 1]
    means = []
    for a in acts:
        obs, r, term, trunc, info = env.step(a)
        means.append(info["expected_reward"])
        assert r in (0.0, 1.0) and not term and not trunc
    np.testing.assert_allclose(means, sequence_rewards(inst.satiated, inst.rested,
                                                       inst.initial_state, acts))
    np.testing.assert_array_equal(obs, [1, -1])  # arm 1 just played, arm 0 idle 1
    np.testing.assert_allclose(info["expected_rewards"], [0.6, 0.2])


def test_bernoulli_rewards_have_the_stated_means():
    env = gym.make("tacsuite/LSDBandit-v0", instance={**GOOD, "horizon": 100_000})
    env.reset(seed=1)
    r = np.array([env.step(i % 2)[1] for i in range(20_000)])
    # alternating: each play is after one idle round -> rested[0]
    assert r[2::2].mean() == pytest.approx(0.6, abs=0.02)
    assert r[3::2].mean() == pytest.approx(0.3, abs=0.02)


def test_truncation_at_the_horizon():
    env = gym.make("tacsuite/LSDBandit-v0", instance={**GOOD, "horizon": 3})
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_random_instance_kwargs_and_gaussian_noise():
    env = gym.make("tacsuite/LSDBandit-v0", k=5, tau_max=6, horizon=10, instance_seed=3)
    assert env.observation_space.shape == (5,) and env.action_space.n == 5
    inst = {**GOOD, "noise": "gaussian", "sigma": 0.01}
    env = gym.make("tacsuite/LSDBandit-v0", instance=inst)
    env.reset(seed=0)
    assert env.step(1)[1] == pytest.approx(0.9, abs=0.05)


def test_recharging_env_is_the_delay_only_lsd_bandit():
    f = [[0.1, 0.5, 0.9], [0.3, 0.3, 0.4]]
    env = gym.make("tacsuite/RechargingBandit-v0", payoffs=f, horizon=20, initial_delay=[1, 3])
    inst = env.unwrapped.instance
    assert inst.is_delay_only and inst.tau_max == 2
    np.testing.assert_allclose(inst.delay_payoffs(), f)
    _, info = env.reset(seed=0)
    np.testing.assert_allclose(info["expected_rewards"], [0.1, 0.4])  # delays 1 and 3
    for a, want in [(0, 0.1), (1, 0.4), (0, 0.5), (0, 0.1), (1, 0.4), (1, 0.3)]:
        assert env.step(a)[4]["expected_reward"] == pytest.approx(want)
    with pytest.raises(ValueError, match="payoffs"):
        gym.make("tacsuite/RechargingBandit-v0", payoffs=[[0.1, 1.5]])


def test_laforgue_instances_match_their_description():
    inst = laforgue_instances()
    f3, f4 = inst["figure3"].delay_payoffs(), inst["figure4"].delay_payoffs()
    assert f3.shape == (5, 10) and inst["figure3"].horizon == 3600
    assert f3[1, 2] == 0.95 and f3[1].sum() == pytest.approx(0.95)
    assert f3[2, 5] == 0.16 and np.all(f3[2, 8:] == 0.96)
    assert f4.shape == (2, 10) and f4[1, 0] == 0.06 and np.all(f4[1, 1:] == 0.95)
    assert inst["figure4"].is_monotone
    assert np.all(inst["figure3"].initial_state == -1)
    with pytest.raises(ValueError, match="D >= 2"):
        recharging_instance([[0.5]], 10)


@pytest.mark.parametrize("env_id,given,extra", [
    ("tacsuite/LSDBandit-v0", {"instance": GOOD}, {"horizon": 50}),
    ("tacsuite/LSDBandit-v0", {"instance": GOOD}, {"k": 5, "instance_seed": 2}),
    ("tacsuite/RechargingBandit-v0", {"payoffs": [[0.1, 0.5]]}, {"max_delay": 3}),
])
def test_random_instance_kwargs_beside_a_given_instance_are_refused(env_id, given, extra):
    with pytest.raises(ValueError, match=f"{sorted(extra)[0]}.*not used with"):
        gym.make(env_id, **given, **extra)
