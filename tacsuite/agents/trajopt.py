"""Trajectory optimisation by gradients: Adam over an open-loop action sequence, the
gradient from the differentiable simulator (full backpropagation through time).

Loss: the task's state loss, tactile loss or both (`task.rollout(..., kind=...)`). Actions
stay in [-1, 1] by projection after each Adam step. See `agents/common/openloop.py`
for what the optimisers share with CMA-ES.
"""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.agents.common.openloop import Clock, Curve


def run(task, budget_seconds: float, loss: str = "state", lr: float = 0.1, seed: int = 0,
        max_iters: int | None = None):
    """(curve, best actions) of Adam on task.rollout within the budget."""
    rng = np.random.default_rng(seed)
    a0 = np.clip(task.initial_actions() + 0.05 * rng.standard_normal(
        task.initial_actions().shape), -1, 1)
    task.rollout(a0, kind=loss)                       # compile outside the clock
    x = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=lr)
    curve, clock = Curve.empty(), Clock(budget_seconds)
    best, best_loss, steps, it = a0.copy(), np.inf, 0, 0
    while clock.left() and (max_iters is None or it < max_iters):
        a = x.detach().numpy().copy()
        res = task.rollout(a, kind=loss)
        steps += res.sim_steps
        if res.loss < best_loss:
            best, best_loss = a, res.loss
        curve.add(clock.seconds, steps, res.loss)
        opt.zero_grad()
        x.grad = torch.as_tensor(res.grad, dtype=torch.float64)
        opt.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
        it += 1
    return curve, best
