"""LOOP against the exact gain oracle and textbook UCRL2 on fixed seeds."""

import numpy as np
import pytest

from tacsuite.agents import loop, ucrl2
from tacsuite.agents.common.continuing import make_env
from tacsuite.envs.river_swim import river_swim_model
from tacsuite.theory.average_reward import optimal_gain

SMALL_LINEAR = "n_states=6,n_actions=3,d=3"


@pytest.fixture(scope="module")
def river_swim_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("loop")
    res = loop.train(loop.Config(steps=100_000, seed=0, out=str(d)))
    u_res = ucrl2.train(ucrl2.Config(out="", steps=100_000, seed=0))
    return {"loop": (res, np.load(d / "rewards.npy"), np.load(d / "switches.npy")),
            "ucrl2": u_res}


def test_loop_regret_on_river_swim_is_sublinear_and_beats_textbook_ucrl2(river_swim_runs):
    res, rewards, switches = river_swim_runs["loop"]
    J = res["gain_star"]
    assert J == pytest.approx(optimal_gain(*river_swim_model(6)).gain, abs=1e-9)
    per_1e4 = (1e4 * J - rewards[:10_000].sum()) / 1e4
    per_1e5 = (1e5 * J - rewards.sum()) / 1e5
    assert per_1e5 <= 0.5 * per_1e4
    assert per_1e5 <= 0.5 * river_swim_runs["ucrl2"]["regret"] / 1e5
    assert res["regret"] == pytest.approx(1e5 * J - rewards.sum())
    assert len(switches) == res["switches"] < 200
    assert np.all(np.diff(switches) > 0)
    # Optimism: every played model promised at least the optimal gain.
    assert res["optimistic_fraction"] == 1.0


def test_loop_learns_the_optimal_river_swim_policy(river_swim_runs, tmp_path):
    res, _, _ = river_swim_runs["loop"]
    assert res["last_gain_estimate"] >= res["gain_star"] - 1e-9
    lrn, _ = loop.fit(loop.Config(out="", steps=30_000, seed=1))
    assert list(lrn.policy_table()) == [1] * 6


def test_the_switch_is_triggered_only_by_leaving_the_looser_set():
    # With an enormous looser set the first hypothesis is never left.
    lrn, res = loop.fit(loop.Config(out="", steps=3000, seed=0, looser=1e12))
    assert lrn.replans == 1 and res["switches"] == 0
    tight = loop.fit(loop.Config(out="", steps=10_000, seed=0, looser=1.0))[0].replans
    loose = loop.fit(loop.Config(out="", steps=10_000, seed=0, looser=2.0))[0].replans
    assert tight > 2 * loose > 0


def test_truncation_does_not_reset_the_stream():
    a = loop.fit(loop.Config(out="", steps=2000, seed=4))[0]
    b = loop.fit(loop.Config(out="", steps=2000, seed=4, env_kwargs="max_episode_steps=50"))[0]
    np.testing.assert_array_equal(a.counts.N, b.counts.N)
    assert a.counts.n.sum() == 2000


@pytest.fixture(scope="module")
def linear_runs():
    env = make_env("tacsuite/LinearAMDP-v0", SMALL_LINEAR)
    J = optimal_gain(env.unwrapped.P, env.unwrapped.R).gain
    runs = [loop.fit(loop.Config(out="", env="tacsuite/LinearAMDP-v0", env_kwargs=SMALL_LINEAR,
                                 steps=12_000, seed=seed)) for seed in range(3)]
    return J, runs


def test_value_based_loop_stays_optimistic_on_a_small_linear_amdp(linear_runs):
    J, runs = linear_runs
    gains = np.concatenate([lrn.gains for lrn, _ in runs])
    assert isinstance(runs[0][0], loop.LinearLOOP)
    assert gains.size >= 10
    assert np.mean(gains >= J) >= 0.95
    assert all(res["optimistic_fraction"] >= 0.95 for _, res in runs)


def test_value_based_loop_regret_is_sublinear(linear_runs, tmp_path):
    J, _ = linear_runs
    res = loop.train(loop.Config(env="tacsuite/LinearAMDP-v0", env_kwargs=SMALL_LINEAR,
                                 steps=12_000, seed=0, out=str(tmp_path)))
    r = np.load(tmp_path / "rewards.npy")
    per_early = (1200 * J - r[:1200].sum()) / 1200
    per_late = (12_000 * J - r.sum()) / 12_000
    assert per_late <= 0.5 * per_early
    assert res["switches"] < 30


def test_mixture_loop_is_optimistic_and_sublinear_on_a_small_linear_amdp(linear_runs, tmp_path):
    J, _ = linear_runs
    res = loop.train(loop.Config(env="tacsuite/LinearAMDP-v0", env_kwargs=SMALL_LINEAR,
                                 variant="mixture", steps=8000, seed=1, out=str(tmp_path)))
    r = np.load(tmp_path / "rewards.npy")
    assert res["optimistic_fraction"] == 1.0 and res["switches"] < 30
    assert (8000 * J - r.sum()) / 8000 <= 0.5 * (800 * J - r[:800].sum()) / 800
    with pytest.raises(ValueError, match="phi"):
        loop.train(loop.Config(out="", steps=10, variant="mixture"))


def test_gap_gradient_matches_central_differences(linear_runs):
    _, runs = linear_runs
    lrn = runs[0][0]
    idx = np.flatnonzero(lrn.seen)
    Fs, Ms = lrn.F[idx], lrn.M[:, idx]
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.normal(size=lrn.d)
        J = rng.uniform(0.3, 1.0)
        _, g_w, g_J = lrn._gap(w, J, Fs, Ms)
        h = 1e-6
        num = [(lrn._gap(w + h * e, J, Fs, Ms)[0] - lrn._gap(w - h * e, J, Fs, Ms)[0]) / (2 * h)
               for e in np.eye(lrn.d)]
        np.testing.assert_allclose(g_w, num, rtol=1e-5, atol=1e-5)
        num_J = (lrn._gap(w, J + h, Fs, Ms)[0] - lrn._gap(w, J - h, Fs, Ms)[0]) / (2 * h)
        assert g_J == pytest.approx(num_J, rel=1e-5, abs=1e-5)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="looser"):
        loop.train(loop.Config(out="", steps=10, looser=0.5))
    with pytest.raises(ValueError, match="steps"):
        loop.train(loop.Config(out="", steps=0))
    with pytest.raises(ValueError, match="features"):
        loop.train(loop.Config(out="", steps=10, variant="value"))
