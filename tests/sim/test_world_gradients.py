"""Reverse mode through world.step vs central finite differences, float64.

Six control steps of five substeps in segments of two steps: the gradient crosses two
checkpoint boundaries. The ball presses, slides and twists; the sensor frame drifts and
tilts; the loss weighs the final node positions and the contact force of every step.
"""

import numpy as np
import pytest

from tests.sim.world_scenes import press_slide_actions, press_world

T = 6


# The Rayleigh-beta path compiles Taichi's own reverse of the damped kernel (about 2 min).
@pytest.fixture(scope="module", params=[pytest.param(0.0, id="hand-adjoint"),
                                        pytest.param(1e-6, id="rayleigh-beta",
                                                     marks=pytest.mark.slow)])
def scene(request):
    w, gel, ball, pair = press_world(requires_grad=True, segment=2, beta=request.param)
    rng = np.random.default_rng(0)
    wx = rng.normal(size=(1, gel.n, 3))
    wf = rng.normal(size=(T, 1, 3))
    x0 = gel.rest_positions()
    v0 = np.zeros_like(x0)
    v0[:, :, 2] = 1e-3
    return w, gel, pair, wx, wf, x0, v0


def _rollout(w, gel, pair, acts, wx, wf, x0, v0):
    gel.set_initial(x=x0, v=v0)
    w.reset()
    for a in acts:
        w.step(a)
    return float(np.sum(wx * gel.positions()) + np.sum(wf * np.array(pair.history)))


def test_gradients_match_central_differences(scene):
    w, gel, pair, wx, wf, x0, v0 = scene
    acts = press_slide_actions(T)
    L0 = _rollout(w, gel, pair, acts, wx, wf, x0, v0)
    F = np.array(pair.history)[:, 0]
    assert np.abs(F[:, 2]).max() > 0 and np.abs(F[:, 0]).max() > 0   # contact with friction
    seeds = {i + 1: {"press.force": wf[i]} for i in range(T)}
    seeds[T]["gel.x"] = wx
    g = w.backward(seeds)
    run = lambda acts_=acts, x0_=x0, v0_=v0: _rollout(w, gel, pair, acts_, wx, wf, x0_, v0_)  # noqa: E731
    checks = []
    for obj, name in ((gel, "E"), (gel, "nu"), (gel, "density"), (gel, "alpha"),
                      (gel, "beta"), (pair, "kn"), (pair, "kd"), (pair, "kt"), (pair, "mu")):
        base = obj.values[name].copy()
        if base[0] == 0:
            continue
        eps = 1e-6 * base
        w.reset()
        obj.set_params(**{name: base + eps})
        Lp = run()
        w.reset()
        obj.set_params(**{name: base - eps})
        Lm = run()
        w.reset()
        obj.set_params(**{name: base})
        checks.append((name, g["params"][obj.name][name][0], (Lp - Lm) / (2 * eps[0])))
    for body, step, comp in (("ball", 1, 2), ("ball", 4, 0), ("ball", 5, 3), ("ball", 2, 4),
                             ("gel", 2, 1), ("gel", 4, 3), ("gel", 1, 5)):
        eps = 1e-9 if comp < 3 else 1e-6
        ap = [{k: v.copy() for k, v in a.items()} for a in acts]
        am = [{k: v.copy() for k, v in a.items()} for a in acts]
        ap[step][body][0, comp] += eps
        am[step][body][0, comp] -= eps
        checks.append((f"{body} pose[{comp}] at step {step}", g["actions"][body][step, 0, comp],
                       (run(acts_=ap) - run(acts_=am)) / (2 * eps)))
    top = int(np.flatnonzero(gel.mesh.points[:, 2] > 0.003 - 1e-9)[4])
    for label, arr, eps in (("x", x0, 1e-9), ("v", v0, 1e-6)):
        a_p, a_m = arr.copy(), arr.copy()
        a_p[0, top, 2] += eps
        a_m[0, top, 2] -= eps
        kw_p = {"x0_": a_p} if label == "x" else {"v0_": a_p}
        kw_m = {"x0_": a_m} if label == "x" else {"v0_": a_m}
        checks.append((f"initial {label}", g["initial"]["gel"][label][0, top, 2],
                       (run(**kw_p) - run(**kw_m)) / (2 * eps)))
    bad = [(n, a, b) for n, a, b in checks if not abs(a - b) <= 1e-3 * abs(b) + 1e-12 * abs(L0)]
    assert not bad, [f"{n}: {a:.6e} vs FD {b:.6e}" for n, a, b in bad]
    assert all(abs(b) > 0 for _, _, b in checks), [n for n, _, b in checks if b == 0]
