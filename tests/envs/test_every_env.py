"""The environment harness: every registered `tacsuite/` id passes these checks."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import tacsuite
from tacsuite.envs.registration import registered_ids
from tests.envs.harness import bad_actions, transitions

IDS = registered_ids()
# Warnings the checkers may raise that say nothing about our envs (kept short, commented).
ALLOWED_WARNINGS: tuple[str, ...] = ()


def _fail_on_warnings(record) -> None:
    bad = [str(w.message) for w in record
           if not any(a in str(w.message) for a in ALLOWED_WARNINGS)]
    assert not bad, f"checker warnings: {bad}"


def test_registry_is_populated():
    assert "tacsuite/RiverSwim-v0" in IDS
    assert tacsuite.__version__


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env(env_id):
    env = gym.make(env_id, disable_env_checker=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
    _fail_on_warnings(record)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped, warn=True)
    _fail_on_warnings(record)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_first_100_transitions(env_id):
    runs = []
    for _ in range(2):
        env = gym.make(env_id)
        runs.append(transitions(env, seed=123))
        env.close()
    assert runs[0] == runs[1]
    env = gym.make(env_id)
    other = transitions(env, seed=124)
    env.close()
    assert other != runs[0] or env_id in _DETERMINISTIC_DYNAMICS, "seed has no effect"


# Envs whose dynamics and start state do not depend on the seed at all.
_DETERMINISTIC_DYNAMICS: set[str] = set()


@pytest.mark.parametrize("env_id", IDS)
def test_bad_actions_raise_value_error_naming_the_value(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    for what, action in bad_actions(env.action_space):
        with pytest.raises(ValueError) as info:
            env.step(action)
        msg = str(info.value)
        shown = repr(action) if np.ndim(action) == 0 else None
        if what == "NaN":
            assert "nan" in msg.lower(), (what, msg)
        elif shown is not None:
            assert shown in msg or str(action) in msg, (what, msg)
        assert "Discrete" in msg or "Box" in msg or "MultiDiscrete" in msg, (what, msg)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_two_copies(env_id):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync")
    obs, _ = envs.reset(seed=7)
    envs.action_space.seed(7)
    for _ in range(5):
        obs, rew, term, trunc, _ = envs.step(envs.action_space.sample())
    assert np.asarray(rew).shape == (2,)
    envs.close()


@pytest.mark.parametrize("env_id", IDS)
def test_spec_pickles_and_remakes(env_id):
    env = gym.make(env_id)
    spec = pickle.loads(pickle.dumps(env.spec))
    env2 = spec.make()
    assert env2.observation_space == env.observation_space
    env.close()
    env2.close()


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_trains_briefly(env_id):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", gym.make(env_id), n_steps=32, batch_size=32, n_epochs=1,
                seed=0, device="cpu")
    model.learn(total_timesteps=64)
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    env.step(action)
    env.close()


def test_module_prefixed_id_in_fresh_process():
    """`"tacsuite:tacsuite/X-v0"` imports the package first, as worker processes need."""
    code = ("import gymnasium as gym; e = gym.make('tacsuite:tacsuite/RiverSwim-v0'); "
            "print(e.reset(seed=0)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_async_vector_env_with_spawn():
    envs = gym.make_vec("tacsuite:tacsuite/RiverSwim-v0", num_envs=2,
                        vectorization_mode="async", vector_kwargs={"context": "spawn"})
    envs.reset(seed=0)
    _, rew, *_ = envs.step(np.array([1, 1]))
    assert rew.shape == (2,)
    envs.close()
