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
