"""CMA-ES (the `cma` package) over the same open-loop action sequence and loss as the
gradient optimiser: each generation's population is one batched rollout, the B
candidates in the world's batch axis. Candidates are clipped to [-1, 1] before they run.
"""

from __future__ import annotations

import numpy as np

from tacsuite.agents.common.openloop import Clock, Curve


def run(task, budget_seconds: float, loss: str = "state", sigma0: float = 0.3,
        popsize: int = 0, seed: int = 0, max_iters: int | None = None):
    """(curve, best actions) of CMA-ES on the task's loss within the budget."""
    import cma

    a0 = task.initial_actions()
    shape = a0.shape
    opts = {"seed": int(seed) + 1, "verbose": -9, "bounds": [-1.0, 1.0]}
    if popsize:
        opts["popsize"] = int(popsize)
    es = cma.CMAEvolutionStrategy(a0.ravel(), float(sigma0), opts)
    lam = es.popsize
    task.rollout(np.repeat(a0[None], lam, 0), kind=loss, grad=False)   # compile first
    curve, clock = Curve.empty(), Clock(budget_seconds)
    best, best_loss, steps, it = a0.copy(), np.inf, 0, 0
    while clock.left() and (max_iters is None or it < max_iters):
        xs = es.ask()
        pop = np.clip(np.asarray(xs), -1.0, 1.0).reshape((lam,) + shape)
        res = task.rollout(pop, kind=loss, grad=False)
        losses = np.asarray(res.loss, dtype=np.float64)
        es.tell(xs, losses.tolist())
        steps += res.sim_steps
        k = int(np.argmin(losses))
        if losses[k] < best_loss:
            best, best_loss = pop[k].copy(), float(losses[k])
        curve.add(clock.seconds, steps, float(losses[k]))
        it += 1
    return curve, best
