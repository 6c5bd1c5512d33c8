"""Trajectory optimisation by gradients: Adam over an open-loop action sequence, the
gradient from the differentiable simulator (full backpropagation through time).

Loss: the task's state loss, tactile loss or both (`task.rollout(..., kind=...)`). Actions
stay in [-1, 1] by projection after each Adam step. With `chains` > 1, that many Adam
chains run side by side in the world's batch axis, one batched rollout (forward and
reverse) per iteration, as CMA-ES runs its population: chain 0 starts where a single
chain would, the others from the initial guess plus `spread` times standard normal noise
(CMA-ES's own sigma0 by default), and the best action sequence of any chain is returned.
On the small task scenes a step costs mostly kernel launches, so a batch of chains costs
little more than one; a contact-rich loss is non-convex (a start that slips or misses the
object has a zero gradient), so starts matter. See `agents/common/openloop.py` for what
the optimisers share with CMA-ES.
"""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.agents.common.openloop import Clock, Curve


def starts(task, chains: int, spread: float, seed: int) -> np.ndarray:
    """(chains, T, A) initial action sequences in [-1, 1] (see the module doc)."""
    if isinstance(chains, bool) or int(chains) != chains or chains < 1:
        raise ValueError(f"chains must be an integer >= 1, got {chains!r}")
    if not (np.isfinite(spread) and spread >= 0):
        raise ValueError(f"spread must be finite and >= 0, got {spread!r}")
    rng = np.random.default_rng(seed)
    a = task.initial_actions()
    out = [a + 0.05 * rng.standard_normal(a.shape)]
    out += [a + spread * rng.standard_normal(a.shape) for _ in range(int(chains) - 1)]
    return np.clip(np.stack(out), -1.0, 1.0)


def run(task, budget_seconds: float, loss: str = "state", lr: float = 0.1, seed: int = 0,
        max_iters: int | None = None, chains: int = 1, spread: float = 0.3):
    """(curve, best actions) of Adam on task.rollout within the budget."""
    a0 = starts(task, chains, spread, seed)
    one = a0.shape[0] == 1
    task.rollout(a0[0] if one else a0, kind=loss)     # compile outside the clock
    x = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=lr)
    curve, clock = Curve.empty(), Clock(budget_seconds)
    best, best_loss, steps, it = a0[0].copy(), np.inf, 0, 0
    while clock.left() and (max_iters is None or it < max_iters):
        a = x.detach().numpy().copy()
        res = task.rollout(a[0] if one else a, kind=loss)
        losses = np.atleast_1d(np.asarray(res.loss, dtype=np.float64))
        steps += res.sim_steps
        k = int(np.argmin(losses))
        if losses[k] < best_loss:
            best, best_loss = a[k], float(losses[k])
        curve.add(clock.seconds, steps, float(losses[k]))
        opt.zero_grad()
        x.grad = torch.as_tensor(np.reshape(res.grad, a.shape), dtype=torch.float64)
        opt.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
        it += 1
    return curve, best
