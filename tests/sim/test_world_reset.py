"""Partial resets inside a recording gradient tape (vector-env autoreset of one environment)."""

import numpy as np
import pytest

from tests.sim.world_scenes import press_slide_actions, press_world

T, CUT = 5, 3          # 5 steps in all; environment 1 is reset after step 3


def _run(w, acts, seeds):
    w.reset()
    for a in acts:
        w.step(a)
    return w.backward(seeds)


def _force_seeds(n, B, x_at=None, n_nodes=None):
    seeds = {i + 1: {"press.force": np.tile([0.3, -0.2, 1.0], (B, 1))} for i in range(n)}
    if x_at is not None:
        seeds[x_at]["gel.x"] = np.ones((B, n_nodes, 3))
    return seeds


@pytest.fixture(scope="module")
def world():
    """One B = 2 world for every run here (each new world compiles its kernels again)."""
    return press_world(batch=2, requires_grad=True, segment=2)


def test_a_partial_reset_keeps_the_other_environments_tape(world):
    w, gel, ball, pair = world
    acts = press_slide_actions(T, batch=2)
    w.reset()
    for t in range(T):
        if t == CUT:
            w.reset([1])
        src = acts[t] if t < CUT else acts[t - CUT]   # env 1 starts its episode again
        w.step({k: np.stack([acts[t][k][0], src[k][0]]) for k in acts[t]})
    x_batch = gel.positions()
    g = w.backward(_force_seeds(T, 2, T, gel.n))

    # References in the same world without a reset: env 0 the whole run; env 1 the same
    # steps with the losses of its first episode only (steps 1..CUT) ...
    seeds = _force_seeds(T, 2, T, gel.n)
    for i in range(CUT + 1, T + 1):
        seeds[i]["press.force"][1] = 0.0
    seeds[T]["gel.x"][1] = 0.0
    full = _run(w, acts, seeds)
    x_full = gel.positions()
    # ... and a fresh episode of T - CUT steps with the losses of the second.
    after = _run(w, acts[:T - CUT], _force_seeds(T - CUT, 2, T - CUT, gel.n))
    x_after = gel.positions()

    np.testing.assert_allclose(x_batch[0], x_full[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x_batch[1], x_after[1], rtol=1e-12, atol=1e-15)
    for body in ("ball", "gel"):
        ga = g["actions"][body]
        ref0 = full["actions"][body][:, 0]
        np.testing.assert_allclose(ga[:, 0], ref0, rtol=1e-8, atol=1e-10 * np.abs(ref0).max())
        ref1 = np.concatenate([full["actions"][body][:CUT, 1], after["actions"][body][:, 1]])
        assert np.abs(ref1[:CUT]).max() > 0 and np.abs(ref1[CUT:]).max() > 0
        np.testing.assert_allclose(ga[:, 1], ref1, rtol=1e-8, atol=1e-10 * np.abs(ref1).max())
    for owner, names in (("gel", ("E", "nu", "alpha")), ("press", ("kn", "kt", "mu"))):
        for name in names:
            gp = g["params"][owner][name]
            np.testing.assert_allclose(gp[0], full["params"][owner][name][0], rtol=1e-8)
            both = full["params"][owner][name][1] + after["params"][owner][name][1]
            np.testing.assert_allclose(gp[1], both, rtol=1e-8)


def test_partial_reset_to_a_given_state_and_its_errors(world):
    w, gel, ball, pair = world
    acts = press_slide_actions(2, batch=2)
    w.reset()
    w.step(acts[0])
    x = gel.positions()
    lifted = x[1] + np.array([0.0, 0.0, 1e-5])
    w.reset([1], state={"gel": {"x": lifted[None]}})
    now = gel.positions()
    np.testing.assert_allclose(now[0], x[0], rtol=1e-14)
    np.testing.assert_allclose(now[1], lifted, rtol=1e-14)
    with pytest.raises(ValueError, match="gel.x must be finite with shape"):
        w.reset([0], state={"gel": {"x": np.zeros((3, 3))}})
    with pytest.raises(ValueError, match="has no state 'q'"):
        w.reset([0], state={"gel": {"q": np.zeros((1, 3))}})
    with pytest.raises(ValueError, match=r"env_ids must lie in \[0, 2\)"):
        w.reset([2])
