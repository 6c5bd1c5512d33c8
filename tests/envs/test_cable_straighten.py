"""CableStraighten beyond the env harness: the cable holds its bend alone and the optimisers'
initial guess (press on the free end, drag it onto the line) straightens it, the tactile
read-out feels the cable through the surface pair, the native vector env equals single
envs, the task loss's gradient matches central differences (float64), bad arguments."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs.tactile.cable_straighten import (
    NODES,
    RADIUS,
    CableStraightenTask,
    arc_layout,
    line_distance,
)
from tests.envs.harness import vector_env_matches_single_envs

CABLE = "tacsuite/CableStraighten-v1"


@pytest.fixture(scope="module")
def env():
    e = gym.make(CABLE, obs_mode="dict")
    yield e
    e.close()


def _run(env, actions, seed=0):
    obs, _ = env.reset(seed=seed)
    out = []
    for a in actions:
        obs, r, term, trunc, info = env.step(np.asarray(a, np.float32))
        out.append((obs, r, term, info))
        if term or trunc:
            break
    return out


def test_the_cable_keeps_its_bend_when_left_alone(env):
    start = _run(env, [np.zeros(6)])[0][3]["mean_distance"]
    steps = _run(env, [np.zeros(6)] * 40)
    assert len(steps) == 40 and not steps[-1][2]
    d = steps[-1][3]["mean_distance"]
    assert abs(d / start - 1) < 0.02, (start, d)       # static ground friction holds it
    assert steps[-1][1] == pytest.approx(-1.0, abs=0.02)
    assert np.abs(steps[-1][0]["tactile"][:6]).max() < 1e-6   # no force: never touched


def test_pressing_and_dragging_the_free_end_straightens_the_cable(env):
    task = env.unwrapped.task
    steps = _run(env, task.initial_actions())
    obs, r, term, info = steps[-1]
    assert term and info["success"] == 1.0 and info["mean_distance"] < task.tolerance
    assert r > 9.0                                     # -cost + the success bonus
    rewards = [s[1] for s in steps[:-1]]
    assert rewards[-1] > rewards[6] + 0.5              # the drag lowered the cost
    # the pad presses on the cable (force on the gel, sensor frame: its +z points down
    # into the ground, so the cable pushes the pad back along -z) and its markers move
    forces = np.array([s[0]["tactile"][:3] for s in steps[6:]])
    assert np.all(forces[:, 2] < -0.5), forces[:, 2]
    assert np.abs(obs["tactile"][6:]).max() > 0.05
    x = env.unwrapped.runner.objs["cable"].positions()[0]
    np.testing.assert_allclose(x[0], [0, 0, RADIUS], atol=1e-7)   # the pinned end stays put


def test_vector_env_matches_single_envs_with_seeds_seed_plus_i():
    task = CableStraightenTask(horizon=8)
    N, steps = 2, 17
    rng = np.random.default_rng(3)
    base = np.concatenate([task.initial_actions()] * 3)[:steps]
    acts = np.clip(base[:, None, :] + 0.3 * rng.standard_normal((steps, N, 6)), -1, 1)
    obs = vector_env_matches_single_envs(CABLE, "CableStraightenVectorEnv", N=N,
                                         steps=steps, horizon=8, actions=acts)
    assert np.abs(np.stack(obs)[:, :, -18:-15]).max() > 0.5, "the pads touched the cable"


def test_task_loss_gradient_matches_finite_differences():
    kind = "both"                                # the state loss plus the tactile term
    task = CableStraightenTask(horizon=9)
    task.scene["dtype"] = "float64"
    rng = np.random.default_rng(0)
    a = np.clip(task.initial_actions() + 0.1 * rng.standard_normal((9, 6)), -0.95, 0.95)
    res = task.rollout(a, kind=kind)
    assert res.grad.shape == a.shape and np.any(res.grad != 0)
    assert res.loss < 1.0                               # in contact and dragging
    h = 1e-4
    for t, k in ((2, 2), (6, 0), (7, 1), (8, 1), (5, 3)):
        ap, am = a.copy(), a.copy()
        ap[t, k] += h
        am[t, k] -= h
        fd = (task.rollout(ap, kind=kind, grad=False).loss
              - task.rollout(am, kind=kind, grad=False).loss) / (2 * h)
        assert res.grad[t, k] == pytest.approx(fd, rel=1e-4, abs=1e-9), (t, k, kind)


def test_layout_and_bad_arguments():
    x = arc_layout(0.8)
    seg = np.linalg.norm(np.diff(x, axis=0), axis=1)
    assert x.shape == (NODES, 3) and np.ptp(seg) < 1e-12       # equal spacing
    assert line_distance(arc_layout(0.3)).mean() < line_distance(x).mean()
    for kw, text in ((dict(bend=2.0), "bend"), (dict(tolerance=0.0), "tolerance"),
                     (dict(mu=-1.0), "mu")):
        with pytest.raises(ValueError, match=text) as info:
            CableStraightenTask(**kw)
        assert repr(list(kw.values())[0]) in str(info.value) or \
            str(list(kw.values())[0]) in str(info.value)
