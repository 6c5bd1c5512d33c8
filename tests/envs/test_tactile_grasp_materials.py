"""TactileGrasp with deformable cubes (MPM, touching the gels through surface pairs): a
smoke test per material (reset and a few closing steps: finite observations, rewards and
the success terms), and the permanent-strain criterion: a gentle
grasp lifts the elastoplastic cube undamaged, a hard squeeze dents it past the bound
and fails, and the elastic cube springs back from the same squeeze."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs.tactile.tactile_grasp import PLASTIC_BOUND, permanent_strain

GRASP = "tacsuite/TactileGrasp-v1"
CLOSE = np.array([0, 0, 0, 0, 0, 0, -1.0], np.float32)


@pytest.mark.parametrize("material", ["elastic", "elastoplastic"])
def test_deformable_cube_smoke(material):
    env = gym.make(GRASP, material=material, obs_mode="dict")
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for _ in range(9):                          # the pads reach the cube at step ~7
        obs, r, term, trunc, info = env.step(CLOSE)
        assert env.observation_space.contains(obs) and np.all(np.isfinite(obs["tactile"]))
        assert isinstance(r, float) and np.isfinite(r) and not term
    assert abs(info["height"]) < 5e-4 and info["success"] == 0.0
    assert ("permanent_strain" in info) == (material == "elastoplastic")
    # both pads feel the cube: opposite normal forces along the closing axis
    f_left, f_right = obs["tactile"][0:3], obs["tactile"][18:21]
    assert f_left[2] < -0.05 and f_right[2] < -0.05, (f_left, f_right)
    env.close()


def _grasp(material, close_steps):
    env = gym.make(GRASP, material=material)
    task = env.unwrapped.task
    a = task.initial_actions()
    a[:close_steps, 6], a[:close_steps, 2] = -1.0, 0.0
    env.reset(seed=0)
    for t in range(task.horizon):
        _, _, term, trunc, info = env.step(a[t].astype(np.float32))
        if term or trunc:
            break
    strain = float(permanent_strain(env.unwrapped.runner.objs["cube"])[0])
    env.close()
    return info, strain


def test_permanent_strain_bounds_the_elastoplastic_grasp():
    gentle, s_gentle = _grasp("elastoplastic", 10)     # the optimisers' initial guess
    assert gentle["success"] == 1.0 and s_gentle < 0.25 * PLASTIC_BOUND
    hard, s_hard = _grasp("elastoplastic", 18)
    assert hard["height"] >= 0.9 * 0.01, "lifted all the same"
    assert s_hard > PLASTIC_BOUND and hard["success"] == 0.0, s_hard
    _, s_elastic = _grasp("elastic", 18)
    assert s_elastic < 0.25 * PLASTIC_BOUND, s_elastic
