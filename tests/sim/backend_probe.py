"""Forces and gradients of one process's compiler, for comparing the two backends.

    TACSUITE_BACKEND=quadrants python -m tests.sim.backend_probe   # prints one JSON line

A float64 world (a 4x4x2-cell pad under a ball) is pressed, then pressed and slid with a
twist, and the slide's loss (fixed random weights on the final node positions and on every
step's contact force) is differentiated by reverse mode with respect to the parameters,
the actions and the initial state.
"""

import json
import os
import sys

import numpy as np

from tests.sim.world_scenes import TOP, press_slide_actions, press_world

T = 6


def _roll(w, gel, pair, acts, x0=None, v0=None):
    if x0 is not None:
        gel.set_initial(x=x0, v=v0)
    w.reset()
    for a in acts:
        w.step(a)
    return np.array(pair.history), gel.positions()


def figures() -> dict:
    from tacsuite.sim.backend import backend_name

    w, gel, ball, pair = press_world(requires_grad=True, segment=2)
    z = TOP + 4e-3 - 0.3e-3 * np.clip(3 * np.arange(1, T + 1) / T, 0, 1)
    press = [{"ball": np.array([[0, 0, zi, 0, 0, 0]])} for zi in z]
    F_press, x_press = _roll(w, gel, pair, press)
    rng = np.random.default_rng(0)
    wx, wf = rng.normal(size=(1, gel.n, 3)), rng.normal(size=(T, 1, 3))
    x0 = gel.rest_positions()
    v0 = np.zeros_like(x0)
    v0[:, :, 2] = 1e-3
    F_slide, x_slide = _roll(w, gel, pair, press_slide_actions(T), x0, v0)
    seeds = {i + 1: {"press.force": wf[i]} for i in range(T)}
    seeds[T]["gel.x"] = wx
    g = w.backward(seeds)
    grads = {f"d{obj}.{name}": v for obj in ("gel", "press")
             for name, v in g["params"][obj].items()}
    grads.update({f"d{body} actions": v for body, v in g["actions"].items()})
    grads.update({f"dgel initial {k}": v for k, v in g["initial"]["gel"].items()})
    out = {"press force": F_press, "press positions": x_press, "slide force": F_slide,
           "slide positions": x_slide, **grads}
    return {"backend": backend_name(), "pid": os.getpid(),
            "figures": {k: np.asarray(v, dtype=np.float64).tolist() for k, v in out.items()}}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(figures()) + "\n")
