"""Model-generalization agents: the bit model learns exact dynamics, rollouts weight by
survival, the perfect model is the env's own step, and the run folder is complete."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tacsuite.agents import er_dqn, model_dqn, perfect_model_dqn
from tacsuite.agents.common.bit_model import BitModel
from tacsuite.agents.common.online_dqn import OnlineDQNConfig, QLearner, adamw, rollout_update
from tacsuite.envs.pan_flute import PanFluteDynamics
from tacsuite.envs.proc_maze import ProcMazeDynamics

TINY = dict(env="tacsuite/PanFlute-v0", env_kwargs="num_pipes=3", steps=150, start_steps=50,
            eval_every=50, eval_steps=30, eval_episodes=2, hidden=(16, 16))


def panflute_transitions(n: int, steps: int, seed: int):
    dyn, rng = PanFluteDynamics(n, 0.0), np.random.default_rng(seed)
    obs, rows = dyn.reset(rng), []
    for _ in range(steps):
        a = rng.integers(0, n, 1)
        nxt, r, _ = dyn.step(obs, a, rng)
        rows.append((obs[0], a[0], r[0], nxt[0]))
        obs = nxt
    o, a, r, n2 = (np.array(x) for x in zip(*rows, strict=True))
    return (torch.as_tensor(o), torch.as_tensor(a), torch.as_tensor(r, dtype=torch.float32),
            torch.as_tensor(n2))


def test_bit_model_recovers_panflute_dynamics_exactly_on_reachable_states():
    torch.manual_seed(0)
    o, a, r, n2 = panflute_transitions(3, 1500, seed=0)
    model = BitModel(6, 3, (64, 64))
    opt = adamw(model.parameters(), 1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(600):
        i = torch.randint(0, len(o), (64,), generator=gen)
        loss = model.loss(o[i], a[i], r[i], n2[i], torch.zeros(64))["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    test_o, test_a, test_r, test_n = panflute_transitions(3, 300, seed=1)
    with torch.no_grad():
        logits, mu, done_logit = model(test_o, test_a)
    assert torch.equal((logits > 0).float(), test_n)  # every bit's most likely value
    nxt, reward, cont = model.sample(test_o, test_a, "mode")
    assert torch.equal(nxt, test_n) and torch.equal(reward, mu) and torch.all(cont > 0.95)
    with pytest.raises(ValueError, match="mode"):
        model.sample(test_o, test_a, "mean")
    assert torch.allclose(mu, test_r, atol=0.2)
    assert torch.all(torch.sigmoid(done_logit) < 0.05)


class Recorder(QLearner):
    def update(self, obs, actions, rewards, next_obs, continuation, weight):
        self.batch = (obs, actions, rewards, next_obs, continuation, weight)
        return 0.0


def test_rollout_weights_are_survival_probabilities_and_chain_states():
    torch.manual_seed(0)
    learner = Recorder(4, 2, OnlineDQNConfig(hidden=(8,)))
    cont = torch.tensor([1.0, 0.5, 0.0])

    def step(obs, actions):
        return obs + 1.0, torch.zeros(len(obs)), cont

    rollout_update(learner, np.zeros((3, 4), np.float32), step, horizon=3, temperature=1.0)
    obs, _, _, nxt, c, w = learner.batch
    assert obs.shape == (9, 4)
    assert torch.equal(w, torch.tensor([1, 1, 1, 1, .5, 0, 1, .25, 0], dtype=torch.float32))
    assert torch.equal(nxt[:3], obs[3:6]) and torch.equal(c, cont.repeat(3))


def test_proc_maze_model_transitions_after_the_goal_carry_no_weight():
    dyn = ProcMazeDynamics(3, 0.0)
    rng = np.random.default_rng(0)
    learner = Recorder(dyn.obs_dim, 5, OnlineDQNConfig(hidden=(8,)))

    def step(obs, actions):
        nxt, r, term = dyn.step(obs.numpy(), actions.numpy(), rng)
        return torch.as_tensor(nxt), torch.as_tensor(r, dtype=torch.float32), \
            torch.as_tensor(1.0 - term, dtype=torch.float32)

    rollout_update(learner, dyn.reset(rng, 64), step, horizon=10, temperature=1.0)
    obs, _, r, nxt, c, w = learner.batch
    w, c = w.view(10, 64), c.view(10, 64)
    assert torch.all(r == -1.0)
    assert torch.equal(w[1:], torch.cumprod(c, 0)[:-1])  # weight = alive so far
    assert (c == 0).any() and torch.all(w[1:][c[:-1] == 0] == 0)


def test_cli_trains_each_agent_and_writes_its_run_folder(tmp_path):
    from tacsuite.cli import main

    for algo in ("er-dqn", "model-dqn", "perfect-model-dqn"):
        out = tmp_path / algo
        assert main(["train", algo, "--env", "tacsuite/PanFlute-v0", "--env-kwargs",
                     "num_pipes=3", "--steps", "150", "--start-steps", "50",
                     "--eval-every", "50", "--eval-episodes", "2", "--hidden", "16", "16",
                     "--seed", "1", "--out", str(out)]) == 0
        res = json.loads((out / "result.json").read_text())
        assert res["algorithm"] == algo and res["metric"] == "reward_rate"
        assert res["updates"] == 100 and res["eval_steps_at"] == [50, 100, 150]
        assert 0.0 <= res["final_score"] <= 1.0
        lines = (out / "metrics.jsonl").read_text().splitlines()
        assert len(lines) == 3 and "eval_score" in json.loads(lines[-1])
        assert np.load(out / "eval_curve.npy").shape == (2, 3)
        state = torch.load(out / "q.pt", weights_only=True)
        assert state["0.weight"].shape == (16, 6)
        assert (out / "learning_curve.png").stat().st_size > 0
        assert json.loads((out / "config.json").read_text())["seed"] == 1


def test_same_seed_same_curve(tmp_path):
    a = model_dqn.train(model_dqn.Config(**TINY, out=str(tmp_path / "a")))
    b = model_dqn.train(model_dqn.Config(**TINY, out=str(tmp_path / "b")))
    assert a["eval_curve"] == b["eval_curve"]


def test_bad_configuration_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="temperature"):
        er_dqn.train(er_dqn.Config(**{**TINY, "temperature": 0.0}, out=str(tmp_path)))
    with pytest.raises(ValueError, match="rollout"):
        model_dqn.train(model_dqn.Config(**TINY, rollout=0, out=str(tmp_path)))
    with pytest.raises(ValueError, match="next_obs"):
        model_dqn.train(model_dqn.Config(**TINY, next_obs="mean", out=str(tmp_path)))
    with pytest.raises(ValueError, match="dynamics"):
        perfect_model_dqn.train(perfect_model_dqn.Config(
            **{**TINY, "env": "CartPole-v1", "env_kwargs": ""}, out=str(tmp_path)))
    with pytest.raises(ValueError, match="Discrete"):
        er_dqn.train(er_dqn.Config(**{**TINY, "env": "tacsuite/GridStitch-v0",
                                      "env_kwargs": ""}, out=str(tmp_path)))


def test_er_dqn_learns_the_timed_order_of_three_pipes(tmp_path):
    """Random play earns about 0.15 per step (mostly spontaneous); repeating 2, 1, 0 earns
    1/3 + (2/3)(1/9) = 0.41."""
    r = er_dqn.train(er_dqn.Config(env="tacsuite/PanFlute-v0", env_kwargs="num_pipes=3",
                                   steps=2500, eval_every=500, eval_episodes=4, seed=0,
                                   out=str(tmp_path)))
    assert r["eval_curve"][0] < 0.2 and r["last_score"] > 0.35
