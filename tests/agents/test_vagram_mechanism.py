"""VaGraM's mechanism in seconds: a small model fitted against a fixed, known critic.

Logged Pendulum transitions carry 5 chaotic distractor dimensions. The critic is the
Pendulum value from grid value iteration (interpolated bilinearly, so it is differentiable
and ignores the distractors). A 1x16 model fitted by MSE in raw units (as MBPO's code fits
it) spends its capacity on the large, chaotic distractors; fitted by VaGraM it spends it
on the dimensions the value reads. A
one-step lookahead controller argmax_a r_hat + gamma V(s_hat') through each model shows
what that costs in return.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from tacsuite.agents import model_losses
from tacsuite.agents.common.ensemble import DynamicsEnsemble, EnsembleConfig

GAMMA, DT, MAX_SPEED = 0.97, 0.05, 8.0
TH = np.linspace(-np.pi, np.pi, 91)
THDOT = np.linspace(-MAX_SPEED, MAX_SPEED, 81)
TORQUES = np.linspace(-2.0, 2.0, 9)


def _wrap(th):
    return (th + np.pi) % (2 * np.pi) - np.pi


def _bilinear(values, th, thdot, lib=np):
    """values on the (TH, THDOT) grid at (th, thdot): periodic in th, clamped in thdot."""
    fi = (th - TH[0]) / (TH[1] - TH[0])
    fj = (lib.clip(thdot, -MAX_SPEED, MAX_SPEED) - THDOT[0]) / (THDOT[1] - THDOT[0])
    i0 = lib.floor(fi).clip(0, len(TH) - 2)
    j0 = lib.floor(fj).clip(0, len(THDOT) - 2)
    a, b = fi - i0, fj - j0
    i0 = i0.long() if lib is torch else i0.astype(int)
    j0 = j0.long() if lib is torch else j0.astype(int)
    return ((1 - a) * (1 - b) * values[i0, j0] + a * (1 - b) * values[i0 + 1, j0]
            + (1 - a) * b * values[i0, j0 + 1] + a * b * values[i0 + 1, j0 + 1])


def value_table() -> np.ndarray:
    th, thdot = np.meshgrid(TH, THDOT, indexing="ij")
    v = np.zeros_like(th)
    for _ in range(150):  # gamma^150 < 0.01
        best = np.full_like(v, -np.inf)
        for u in TORQUES:
            nd = np.clip(thdot + (15.0 * np.sin(th) + 3.0 * u) * DT, -MAX_SPEED, MAX_SPEED)
            r = -(_wrap(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2)
            best = np.maximum(best, r + GAMMA * _bilinear(v, _wrap(th + nd * DT), nd))
        v = best
    return v


def critic_of(table: np.ndarray):
    values = torch.as_tensor(table, dtype=torch.float32)

    def value(obs: torch.Tensor) -> torch.Tensor:
        th = torch.atan2(obs[:, 1], obs[:, 0])
        return _bilinear(values, th, obs[:, 2], lib=torch)

    return value


def logged_data(n: int, distractors: int, seed: int):
    """n transitions from uniform states and torques; distractors along their own orbit."""
    env = gym.make("tacsuite/PendulumDistractor-v0", distractors=distractors).unwrapped
    rng = np.random.default_rng(seed)
    th = rng.uniform(-np.pi, np.pi, n)
    thdot = rng.uniform(-MAX_SPEED, MAX_SPEED, n)
    u = rng.uniform(-2.0, 2.0, n)
    nd = np.clip(thdot + (15.0 * np.sin(th) + 3.0 * u) * DT, -MAX_SPEED, MAX_SPEED)
    nth = th + nd * DT
    reward = -(_wrap(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2)
    d = np.empty((n + 1, distractors))
    d[0] = env.distractors.start(rng)
    for t in range(n):
        d[t + 1] = env.distractors.step(d[t])
    obs = np.column_stack([np.cos(th), np.sin(th), thdot, d[:-1]]).astype(np.float32)
    nxt = np.column_stack([np.cos(nth), np.sin(nth), nd, d[1:]]).astype(np.float32)
    return obs, (u / 2)[:, None].astype(np.float32), nxt, reward.astype(np.float32), env


def fit_model(loss_name, data, weights, seed):
    obs, act, nxt, rew, _ = data
    torch.manual_seed(seed)
    model = DynamicsEnsemble(obs.shape[1], 1, EnsembleConfig(
        members=1, elites=1, hidden=(16,), epochs=20, batch=64, holdout=0.1,
        standardize_targets=False))
    model.fit(obs, act, nxt, rew, np.random.default_rng(seed),
              loss=model_losses.get(loss_name), weight=weights)
    return model


def lookahead_return(model, value, env, episodes: int = 4, seed: int = 0) -> float:
    actions = np.linspace(-1.0, 1.0, 21, dtype=np.float32)[:, None]  # torque / 2
    total = 0.0
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        for _ in range(200):
            tiled = np.repeat(obs[None], len(actions), 0)
            mean, _ = model.predict(tiled, actions)
            pred = tiled + mean[0, :, :-1]
            with torch.no_grad():
                score = mean[0, :, -1] + GAMMA * value(torch.as_tensor(pred)).numpy()
            obs, r, *_ = env.step(actions[int(np.argmax(score))])
            total += r
    return total / episodes


def test_vagram_ignores_distractors_where_mse_cannot():
    table = value_table()
    value = critic_of(table)
    data = logged_data(5000, distractors=5, seed=0)
    obs, act, nxt, rew, env = data
    weights = model_losses.value_gradient_weights(nxt, [lambda s, a: value(s)],
                                                  lambda s: s[:, :0])
    assert np.all(weights[:, 3:] == 0) and weights[:, :3].mean() > 0
    test = logged_data(1000, distractors=5, seed=1)
    scores = {}
    for name in ("mse", "vagram"):
        model = fit_model(name, data, weights if name == "vagram" else None, seed=0)
        mean, _ = model.predict(test[0], test[1])
        true_err = float(np.mean((test[0][:, :3] + mean[0, :, :3] - test[2][:, :3]) ** 2))
        scores[name] = (true_err, lookahead_return(model, value, env))
    (mse_err, mse_ret), (vg_err, vg_ret) = scores["mse"], scores["vagram"]
    assert vg_err < 0.5 * mse_err, scores
    assert vg_ret > mse_ret + 200, scores
