"""DR-RPO and its baselines on the simulated linear MDP, against the exact robust oracle."""

import json

import numpy as np
import pytest

from tacsuite.agents import dr_lsvi_ucb, dr_rpo, lsvi_ucb
from tacsuite.agents.common.linear_runs import finite_state_features, make_env
from tacsuite.envs.linear_mdp import linear_mdp_model
from tacsuite.theory.robust import finite_horizon_values, robust_value_iteration

ENV = "tacsuite/SimulatedLinearMDP-v0"
SEEDS = (0, 1, 2)
SWITCH = 1.0 - 0.999 * (1.0 + 0.5 * 0.999 * 0.5) / 2.0   # ~0.376, see tests/theory


def _value_at(policy: np.ndarray, q: float) -> float:
    m = linear_mdp_model(q)
    V, _ = finite_horizon_values(m.transitions(), m.rewards(), policy)
    return float(V[0, 0])


@pytest.fixture(scope="module")
def states():
    return finite_state_features(make_env(ENV, ""))


@pytest.fixture(scope="module")
def trained(states):
    out = {}
    for name, mod in (("lsvi-ucb", lsvi_ucb), ("dr-lsvi-ucb", dr_lsvi_ucb), ("dr-rpo", dr_rpo)):
        for seed in SEEDS:
            learner, result = mod.fit(mod.Config(episodes=300, rho=0.5, seed=seed, out=""))
            out[name, seed] = (learner.policy_table(states), result)
    return out


def test_dr_rpo_reaches_the_regularised_robust_optimum(trained):
    rho = np.zeros((3, 4))
    rho[0, 3] = 0.5
    best = robust_value_iteration(linear_mdp_model(0.0), rho=rho, beta=0.01)
    for seed in SEEDS:
        policy, result = trained["dr-rpo", seed]
        assert result["oracle"]["suboptimality"] < 0.02
        # Unregularised, it is within a few hundredths of the hard rho-robust optimum.
        oracle = result["oracle"]
        assert oracle["optimal_robust_value"] - oracle["policy_robust_value"] < 0.04
        assert result["oracle"]["optimal_regularised_robust_value"] == pytest.approx(
            best.value(np.eye(5)[0]))
        # The step-1 policy is close to the oracle's softmax policy (total variation).
        assert 0.5 * np.abs(policy[0, 0] - best.policy[0, 0]).sum() < 0.15


def test_robust_agents_beat_lsvi_ucb_under_shift_and_give_up_little_nominally(trained):
    # The rho-robust optimal policy (rho >= switching point) takes the safe path at step 1.
    safe = robust_value_iteration(linear_mdp_model(0.0), rho=np.where(
        np.arange(12).reshape(3, 4) == 3, 0.5, 0.0)).policy
    price = _value_at(np.eye(16)[[[15] * 5] * 3], 0.0) - _value_at(safe, 0.0)
    assert 0.5 > SWITCH and price == pytest.approx(0.3, abs=0.01)
    for seed in SEEDS:
        lsvi = trained["lsvi-ucb", seed][0]
        for name in ("dr-rpo", "dr-lsvi-ucb"):
            pol = trained[name, seed][0]
            assert _value_at(pol, 0.8) > _value_at(lsvi, 0.8) + 0.2, (name, seed)
            # Nominally it loses no more than the exact price of robustness (plus slack).
            assert _value_at(lsvi, 0.0) - _value_at(pol, 0.0) <= price + 0.02, (name, seed)


def test_radius_zero_reduces_to_the_non_robust_algorithm():
    common = dict(episodes=150, seed=4, out="", bonus="elliptical")
    plain = lsvi_ucb.fit(lsvi_ucb.Config(**common))
    robust0 = dr_lsvi_ucb.fit(dr_lsvi_ucb.Config(rho=0.0, **common))
    assert np.array_equal(plain[0].w, robust0[0].w)
    assert plain[1]["mean_return"] == robust0[1]["mean_return"]
    # ... while a radius above the switching point changes what is learned.
    robust = dr_lsvi_ucb.fit(dr_lsvi_ucb.Config(rho=0.5, **common))
    assert not np.allclose(plain[0].w, robust[0].w)


def test_beta_to_zero_gives_the_hard_max_and_large_eta_the_soft_update():
    learner, _ = dr_lsvi_ucb.fit(dr_lsvi_ucb.Config(episodes=60, rho=0.5, seed=5, out=""))
    hard = learner.plan()
    gaps = []
    learner.update = "soft"
    for beta in (1e-1, 1e-2, 1e-3, 1e-4):
        learner.beta = beta
        soft = learner.plan()
        gap = max(float(np.abs(s - h).max()) for s, h in zip(soft, hard, strict=True) if h.size)
        assert gap <= 3 * beta * np.log(16) + 1e-12
        gaps.append(gap)
    assert gaps[-1] < 1e-3 and gaps == sorted(gaps, reverse=True)
    # Mirror descent with a huge step lands on the soft (eta -> infinity) policy.
    pmd, _ = dr_rpo.fit(dr_rpo.Config(episodes=40, rho=0.5, seed=6, eta=1e9, out=""))
    for h in range(3):
        table = pmd.tables[h]
        feats = table.feats[:table.size]
        q = pmd.q_values(h, feats)
        soft = np.exp(q / pmd.beta - (q / pmd.beta).max(-1, keepdims=True))
        soft /= soft.sum(-1, keepdims=True)
        logits = table.logits[:table.size]
        p = np.exp(logits - logits.max(-1, keepdims=True))
        assert np.allclose(p / p.sum(-1, keepdims=True), soft, atol=1e-6)


@pytest.mark.parametrize("divergence", ["kl", "chi2"])
def test_kl_and_chi_square_sets_learn_their_own_robust_optimum(divergence):
    _, result = dr_rpo.fit(dr_rpo.Config(episodes=150, rho=0.3, rho_mask="all",
                                         divergence=divergence, seed=0, out=""))
    assert result["oracle"]["suboptimality"] < 0.05
    # A KL or chi-square ball around the point-mass goal factor is the point itself, so
    # the all-factor robust optimum is far less pessimistic than the TV one.
    assert result["oracle"]["optimal_robust_value"] > 1.5


def test_penalised_tv_and_the_continuous_envs_train(tmp_path):
    _, result = dr_rpo.fit(dr_rpo.Config(episodes=100, rho=1.0, penalised=True,
                                         rho_mask="all", seed=0, out=""))
    assert result["oracle"]["suboptimality"] < 0.05
    r = dr_rpo.train(dr_rpo.Config(env="tacsuite/AmericanPutOption-v0", env_kwargs="d=10",
                                   episodes=30, rho=0.02, seed=0, out=str(tmp_path / "put")))
    assert np.isfinite(r["mean_return"]) and "oracle" not in r
    assert not (tmp_path / "put" / "policy.json").exists()
    assert np.load(tmp_path / "put" / "returns.npy").shape == (30,)
    # Continuous-state runs are evaluated from the saved learner; a put that always
    # goes up (p = 1) is never worth exercising later than at once.
    from tacsuite.agents.common.linear_runs import evaluate_learner, load_learner
    from tacsuite.cli import main

    learner = load_learner(tmp_path / "put")
    up = evaluate_learner(learner, "tacsuite/AmericanPutOption-v0", "d=10,p=1.0", 50, 0)
    down = evaluate_learner(learner, "tacsuite/AmericanPutOption-v0", "d=10,p=0.0", 50, 0)
    assert up.max() <= 5.0 and down.mean() > up.mean()
    assert main(["evaluate", str(tmp_path / "put"), "--env-kwargs", "d=10,p=0.3",
                 "--episodes", "20"]) == 0
    r = dr_lsvi_ucb.train(dr_lsvi_ucb.Config(env="tacsuite/RobustCartPole-v0",
                                             env_kwargs="horizon=20,n_centers=2",
                                             episodes=10, rho=0.01, seed=0, out=""))
    assert 1 <= r["mean_return"] <= 20


def test_a_finished_run_folder_gives_back_the_learner_its_process_ended_with(tmp_path):
    # The reproduction tests learners after a sweep from their folders: the same seeds
    # must draw the same test actions as the in-process learner (RNG and PMD logits).
    from tacsuite.agents.common.linear_runs import (
        load_learner,
        load_trained_learner,
        run_episode,
    )
    from tacsuite.common.runs import RunFolderError

    cfg = dict(episodes=20, rho=0.05, seed=3)
    mine, _ = dr_rpo.fit(dr_rpo.Config(**cfg, out=""))
    dr_rpo.train(dr_rpo.Config(**cfg, out=str(tmp_path / "run")))

    def test_returns(learner):
        env = make_env("tacsuite/SimulatedLinearMDP-v0", "q=0.5")
        return [run_episode(env, learner, seed=100 + t, learn=False) for t in range(10)]

    reference = test_returns(mine)
    assert test_returns(load_trained_learner(tmp_path / "run")) == reference  # same draws
    # agent.json alone (what `evaluate` needs) has neither the RNG nor the met states' logits
    assert test_returns(load_learner(tmp_path / "run")) != reference
    (tmp_path / "run" / "result.json").unlink()
    with pytest.raises(RunFolderError, match="no finished run"):
        load_trained_learner(tmp_path / "run")


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="beta"):
        dr_rpo.fit(dr_rpo.Config(episodes=2, beta=0.0, out=""))
    with pytest.raises(ValueError, match="rho"):
        dr_rpo.fit(dr_rpo.Config(episodes=2, rho=-1.0, out=""))
    with pytest.raises(ValueError, match="horizon"):
        dr_rpo.fit(dr_rpo.Config(env="tacsuite/RiverSwim-v0", episodes=2, out=""))


def test_train_and_evaluate_from_the_command_line(tmp_path, capsys):
    from tacsuite.cli import main

    out = tmp_path / "run"
    assert main(["train", "dr-rpo", "--env", ENV, "--episodes", "200", "--rho", "0.5",
                 "--seed", "0", "--out", str(out)]) == 0
    for name in ("config.json", "metrics.jsonl", "result.json", "returns.npy", "policy.json"):
        assert (out / name).is_file(), name
    probs = np.array(json.loads((out / "policy.json").read_text())["probs"])
    assert probs.shape == (3, 5, 16) and np.allclose(probs.sum(-1), 1.0)
    capsys.readouterr()
    assert main(["evaluate", str(out), "--env", ENV, "--env-kwargs", "q=0.6",
                 "--episodes", "2000", "--seed", "1", "--out", str(tmp_path / "ev")]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["ci_low"] <= res["exact_value"] <= res["ci_high"]
    assert res["exact_value"] == pytest.approx(_value_at(probs, 0.6))
    assert (tmp_path / "ev" / "result.json").is_file()
    assert main(["evaluate", str(tmp_path), "--env", ENV]) == 2
    assert main(["train", "lsvi-ucb", "--env", ENV, "--episodes", "20", "--rho", "0.5",
                 "--out", str(tmp_path / "l")]) == 0
    assert main(["train", "nope"]) == 2


def test_demo_part_writes_its_figure(tmp_path):
    from tacsuite.demos import PARTS, robust

    assert PARTS["robust"] == "tacsuite.demos.robust"
    summary = robust.run(tmp_path, episodes=150, seeds=1)
    assert (tmp_path / summary["png"]).stat().st_size > 1000
    assert summary["dr-rpo"]["q=0.8"] > summary["lsvi-ucb"]["q=0.8"] + 0.2
    assert summary["robust_optimum"]["q=0.8"] == pytest.approx(1.1648, abs=1e-4)
