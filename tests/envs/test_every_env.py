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
from gymnasium.wrappers import RenderCollection
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import tacsuite
from tacsuite.envs.base import ResetNeeded, SuiteEnv, check_render_mode
from tacsuite.envs.registration import env_class, registered_ids
from tests.envs.harness import bad_actions, bad_kwargs, play_to_end, raw_env, transitions

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


# --- episode order: no step before reset() or after the end (tacsuite.envs.base) --------

@pytest.mark.parametrize("env_id", IDS)
def test_step_outside_an_episode_raises_through_gym_make(env_id):
    env = gym.make(env_id)
    with pytest.raises(ResetNeeded, match="before reset"):
        env.step(env.action_space.sample())
    n = play_to_end(env, seed=0)
    assert n is not None, "every registered id ends (its own end or the registered TimeLimit)"
    for _ in range(2):
        with pytest.raises(ResetNeeded, match=f"{env_id}.*after the episode was"):
            env.step(env.action_space.sample())
    env.reset(seed=1)
    env.step(env.action_space.sample())
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_the_env_itself_refuses_steps_outside_an_episode(env_id):
    env = raw_env(env_id)
    assert isinstance(env, SuiteEnv), "derive the env from tacsuite.envs.base.SuiteEnv"
    with pytest.raises(ResetNeeded, match="before reset"):
        env.step(env.action_space.sample())
    n = play_to_end(env, seed=0)
    if n is not None:  # envs that end on their own (continuing ones rely on TimeLimit)
        with pytest.raises(ResetNeeded, match=f"{type(env).__name__}.*at step {n}"):
            env.step(env.action_space.sample())
    env.reset(seed=0)
    env.step(env.action_space.sample())
    env.close()


def test_native_vector_envs_keep_the_contract_themselves():
    # gym.make_vec applies no wrappers to a vector entry point, so the class must check
    # episode order and actions (tacsuite.envs.base.SuiteVectorEnv; exercised in
    # tests/envs/test_tactile_tasks.py).
    from tacsuite.envs.base import SuiteVectorEnv
    from tacsuite.envs.registration import _class_of

    native = [gym.spec(i) for i in IDS if gym.spec(i).vector_entry_point is not None]
    assert native
    for spec in native:
        assert issubclass(_class_of(spec.vector_entry_point), SuiteVectorEnv), spec.id


def test_time_limit_truncation_is_named_in_the_error():
    env = gym.make("tacsuite/RiverSwim-v0", max_episode_steps=5)
    assert play_to_end(env, seed=0) == 5
    with pytest.raises(ResetNeeded, match=r"truncated \(time limit 5 steps\) at step 5"):
        env.step(0)


# --- rendering --------------------------------------------------------------------------

@pytest.mark.parametrize("env_id", IDS)
def test_rgb_array_frames_for_every_step(env_id):
    cls = env_class(env_id)
    assert "rgb_array" in cls.metadata["render_modes"]
    assert cls.metadata["render_fps"] > 0
    env = RenderCollection(gym.make(env_id, render_mode="rgb_array"))
    env.reset(seed=0)
    env.action_space.seed(0)
    steps = 0
    while steps < 5:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        steps += 1
        if term or trunc:
            break
    frames = env.render()
    assert len(frames) == steps + 1
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert min(frame.shape[:2]) >= 32 and frame.shape == frames[0].shape
        assert frame.std() > 0, "a blank frame"
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_record_video(env_id, tmp_path):
    pytest.importorskip("moviepy")
    from gymnasium.wrappers import RecordVideo

    env = RecordVideo(gym.make(env_id, render_mode="rgb_array"), str(tmp_path),
                      episode_trigger=lambda ep: True, disable_logger=True)
    play_to_end(env, seed=0, limit=20)
    env.close()
    assert list(tmp_path.glob("*.mp4"))


@pytest.mark.parametrize("env_id", IDS)
def test_unsupported_render_mode_is_refused_in_the_shared_wording(env_id):
    cls = env_class(env_id)
    with pytest.raises(ValueError) as info:
        raw_env(env_id, render_mode="human3d")
    with pytest.raises(ValueError) as shared:
        check_render_mode(cls, "human3d")
    assert str(info.value) == str(shared.value)
    assert "render_mode='human3d' is not supported" in str(info.value)


# --- constructor arguments --------------------------------------------------------------

@pytest.mark.parametrize("env_id", IDS)
def test_bad_constructor_kwargs_raise_value_error_naming_the_kwarg(env_id):
    import inspect

    cls = env_class(env_id)
    cases = bad_kwargs(cls)
    takes = set(inspect.signature(cls.__init__).parameters) - {"self", "render_mode"}
    assert cases or not takes, "the harness found no keyword arguments to check"
    for name, value in cases:
        with pytest.raises(ValueError) as info:
            gym.make(env_id, **{name: value})
        assert name in str(info.value), (name, value, str(info.value))
