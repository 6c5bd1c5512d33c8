"""Helpers of the environment harness: bad actions for a space, rollout fingerprints."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def bad_actions(space: spaces.Space) -> list[tuple[str, object]]:
    """Actions that must be rejected with ValueError: out of range, wrong shape, NaN."""
    if isinstance(space, spaces.Discrete):
        return [("above range", space.start + space.n), ("below range", space.start - 1),
                ("wrong shape", np.array([space.start, space.start])),
                ("NaN", float("nan"))]
    if isinstance(space, spaces.Box):
        out: list[tuple[str, object]] = []
        if np.all(np.isfinite(space.high)):
            a = space.low.astype(np.float64).copy()
            a.flat[0] = space.high.flat[0] + 1.0 + abs(space.high.flat[0])
            out.append(("above range", a.astype(space.dtype)))
        out.append(("wrong shape", np.zeros(space.shape + (1,), dtype=space.dtype)))
        nan = np.zeros(space.shape, dtype=np.float64)
        nan.flat[0] = np.nan
        out.append(("NaN", nan.astype(space.dtype)))
        return out
    if isinstance(space, spaces.MultiDiscrete):
        hi = np.array(space.nvec, dtype=np.int64) + space.start
        return [("above range", hi), ("wrong shape", np.zeros(space.shape + (1,), np.int64)),
                ("NaN", np.full(space.shape, np.nan))]
    raise NotImplementedError(f"no bad-action recipe for {space}")


def transitions(env, seed: int, n: int = 100) -> list[tuple]:
    """The first n transitions under actions drawn from a seeded action space."""
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [(_flat(obs),)]
    for _ in range(n):
        a = env.action_space.sample()
        obs, r, term, trunc, info = env.step(a)
        out.append((_flat(a), _flat(obs), float(r), bool(term), bool(trunc)))
        if term or trunc:
            obs, info = env.reset()
            out.append((_flat(obs),))
    return out


def _flat(x) -> tuple:
    if isinstance(x, dict):
        return tuple((k, _flat(v)) for k, v in sorted(x.items()))
    return tuple(np.asarray(x, dtype=np.float64).ravel().tolist())


# --- the episode contract, rendering and constructor checks (tacsuite.envs.base) ---------
# A new env gets these checks by being registered; to pass them, derive it from
# `tacsuite.envs.base.SuiteEnv`, list its render modes (with "rgb_array") and render_fps in
# `metadata`, call `self._set_render_mode(render_mode)` and draw frames in `_render_rgb`,
# and check every constructor argument with `tacsuite.envs.validation.check_*`.

def raw_env(env_id: str, **kwargs):
    """The env class built with its registered kwargs: no TimeLimit, no wrappers at all."""
    import gymnasium as gym

    from tacsuite.envs.registration import env_class

    return env_class(env_id)(**{**gym.spec(env_id).kwargs, **kwargs})


def play_to_end(env, seed: int, limit: int = 5000) -> int | None:
    """Steps with seeded random actions until terminated or truncated (None: no end)."""
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for n in range(1, limit + 1):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            return n
    return None


def bad_kwargs(cls) -> list[tuple[str, object]]:
    """Constructor values every env must refuse with ValueError naming the argument: NaN,
    inf and text for numbers, fractions and bools for integers, text for flags, unknown
    strings for choices. Built from the signature's defaults (None defaults are skipped)."""
    import inspect

    out: list[tuple[str, object]] = []
    for name, p in inspect.signature(cls.__init__).parameters.items():
        default = p.default
        if name in ("self", "render_mode") or default is inspect.Parameter.empty:
            continue
        if isinstance(default, bool):
            out += [(name, "yes"), (name, 2)]
        elif isinstance(default, int):
            out += [(name, float("nan")), (name, 2.5), (name, "3"), (name, True)]
        elif isinstance(default, float):
            out += [(name, float("nan")), (name, float("inf")), (name, -float("inf")),
                    (name, "0.5"), (name, True)]
        elif isinstance(default, str):
            out += [(name, "no-such-choice"), (name, 3)]
    return out


def vector_env_matches_single_envs(env_id: str, class_name: str, N: int, steps: int,
                                   horizon: int, actions=None, seed: int = 11) -> list:
    """A native vector env (gym.make_vec) of N environments against N single envs reset
    with seeds seed + i, stepped with the same actions (steps, N, A) (default: uniform
    random), through next-step autoresets: the same observations, rewards and ends
    (float32 worlds of different batch sizes: within rtol 1e-3). Returns the vector env's
    observations."""
    import gymnasium as gym
    import pytest

    venv = gym.make_vec(env_id, num_envs=N, horizon=horizon)
    assert type(venv.unwrapped).__name__ == class_name
    obs, _ = venv.reset(seed=seed)
    if actions is None:
        A = venv.single_action_space.shape[0]
        actions = np.random.default_rng(0).uniform(-1, 1, size=(steps, N, A))
    acts = np.asarray(actions, dtype=np.float32)
    v_obs, v_rew, v_done = [obs], [], []
    for t in range(steps):
        obs, rew, term, trunc, _ = venv.step(acts[t])
        v_obs.append(obs)
        v_rew.append(rew)
        v_done.append(term | trunc)
    venv.close()
    for i in range(N):
        env = gym.make(env_id, horizon=horizon)
        o, _ = env.reset(seed=seed + i)
        np.testing.assert_allclose(o, v_obs[0][i], rtol=1e-4, atol=1e-5)
        autoreset = False
        for t in range(steps):
            if autoreset:                       # next-step autoreset: the action is ignored
                o, r = env.reset()[0], 0.0
                autoreset = False
                done = False
            else:
                o, r, te, tr, _ = env.step(acts[t, i])
                done = te or tr
                autoreset = done
            np.testing.assert_allclose(o, v_obs[t + 1][i], rtol=1e-3, atol=1e-4)
            assert r == pytest.approx(v_rew[t][i], rel=1e-3, abs=1e-4)
            assert done == bool(v_done[t][i])
        env.close()
    assert steps > horizon * 2, "the episodes ended and were reset inside the run"
    return v_obs
