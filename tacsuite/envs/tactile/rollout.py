"""Open-loop rollouts of a task with its loss: with gradients (full backpropagation through
time, `World.backward` with checkpointed segments) or for a whole population at once.

    res = rollout(task, actions)                  # actions (T, A) in [-1, 1]
    res.loss, res.grad                            # float, (T, A)
    res = rollout(task, pop, grad=False)          # pop (B, T, A): B losses in one batch
    res = rollout(task, pop)                      # ... and each one's gradient (B, T, A)

The chain: actions -> controls c_t (clipped cumulative deltas, torch) -> body poses
(torch) -> world steps -> recorded outputs (per-step pair forces, final body states) ->
task loss (torch). Torch differentiates the two ends, the world's reverse pass the middle:
the outputs' adjoints become the world's seeds and the pose adjoints it returns flow back
through the control map into the actions. A batch's environments never interact, so the
gradient of the summed loss, row by row, is each rollout's own gradient. `params`
({object: {param: value}}) sets scene parameters for the rollout and, with gradients,
returns dL/dparam as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from tacsuite.envs.tactile.task import shared_world

LOSS_KINDS = ("state", "tactile", "both")


@dataclass
class RolloutResult:
    loss: np.ndarray                    # (B,) or a float for one rollout
    grad: np.ndarray | None = None      # dL/dactions, the shape of the actions
    param_grads: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    sim_steps: int = 0


def rollout(task, actions, params: dict | None = None, kind: str = "state",
            grad: bool = True) -> RolloutResult:
    """The task loss of open-loop actions from the nominal start (see the module doc)."""
    if kind not in LOSS_KINDS:
        raise ValueError(f"loss kind must be one of {list(LOSS_KINDS)}, got {kind!r}")
    a = np.asarray(actions, dtype=np.float64)
    single = a.ndim == 2
    if single:
        a = a[None]
    A = task.action_dim
    if a.ndim != 3 or a.shape[2] != A or a.shape[1] < 1:
        raise ValueError(f"actions must have shape (T, {A}) or (B, T, {A}), got "
                         f"{np.asarray(actions).shape}")
    if not np.all(np.isfinite(a)) or np.any(np.abs(a) > 1.0 + 1e-9):
        raise ValueError("actions must be finite and lie in [-1, 1]")
    B, T = a.shape[0], a.shape[1]
    world, objs, lease = shared_world(task, B, requires_grad=grad)
    lease.take(_ROLLOUT_USER)
    draws = [task.default_draws() for _ in range(B)]
    at = torch.tensor(np.transpose(a, (1, 0, 2)), dtype=torch.float64, requires_grad=grad)
    c0 = torch.as_tensor(np.tile(task.initial_control(), (B, 1)), dtype=torch.float64)
    cs = [c0]
    for t in range(T):
        cs.append(task.step_control_torch(cs[-1], at[t]))
    c = torch.stack(cs)                                  # (T+1, B, C)
    poses = [task.body_poses(c[t]) for t in range(T + 1)]
    names = list(task.driven)

    task.apply_episode(objs, draws, np.arange(B))
    for n in names:
        objs[n].set_initial(pose=poses[0][n].detach().numpy())
    world.reset()
    saved = {name: world.named(name).params() for name in (params or {})}
    _set_params(world, params or {}, B)
    try:
        return _run(task, world, objs, at, c, poses, draws, grad, kind, params, single)
    finally:
        world.reset()
        _set_params(world, {n: {k: v for k, v in d.items() if k in (params or {})[n]}
                            for n, d in saved.items()}, B)


def _run(task, world, objs, at, c, poses, draws, grad, kind, params, single):
    T, B = at.shape[0], at.shape[1]
    names = list(task.driven)
    per_step = {k: [] for k, when in task.loss_outputs if when == "all"}
    for t in range(T):
        world.step({n: poses[t + 1][n].detach().numpy() for n in names})
        for k in per_step:
            per_step[k].append(_read(world, k))
    outs_np = {k: np.stack(v) for k, v in per_step.items()}
    for k, when in task.loss_outputs:
        if when == "final":
            outs_np[k] = _read(world, k)
    metrics = task.metrics(world, objs, c[-1].detach().numpy(), draws)
    outs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=grad)
            for k, v in outs_np.items()}
    loss = task.loss(c, outs, draws, kind)
    res = RolloutResult(loss=loss.detach().numpy(), metrics=metrics, sim_steps=B * T)
    if grad:
        total = loss.sum()
        total.backward(retain_graph=True)
        seeds: dict = {}
        for k, when in task.loss_outputs:
            g = outs[k].grad
            if g is None:
                continue
            g = g.numpy()
            if when == "all":
                for t in range(T):
                    seeds.setdefault(t + 1, {})[k] = g[t]
            else:
                seeds.setdefault(T, {})[k] = g
        back = world.backward(seeds)
        pose_t = torch.stack([torch.cat([poses[t][n] for n in names], dim=-1)
                              for t in range(1, T + 1)])
        g_pose = np.concatenate([back["actions"][n] for n in names], axis=-1)
        # The initial pose is fixed by the task (it does not depend on the actions).
        torch.autograd.backward(pose_t, torch.as_tensor(g_pose, dtype=torch.float64))
        res.grad = np.transpose(at.grad.numpy(), (1, 0, 2)).copy()
        res.param_grads = {name: {p: back["params"][name][p] for p in d}
                           for name, d in (params or {}).items()}
        res.sim_steps = 3 * B * T   # forward, the recomputed forward and the reverse pass
    if single:
        res.loss = float(res.loss[0])
        if res.grad is not None:
            res.grad = res.grad[0]
        res.metrics = {k: float(np.asarray(v)[0]) for k, v in res.metrics.items()}
    return res


class _RolloutUser:
    """The lease holder of rollout worlds (rollouts always start from a reset)."""


_ROLLOUT_USER = _RolloutUser()


def _set_params(world, params: dict, B: int) -> None:
    for name, d in params.items():
        obj = world.named(name)
        obj.set_params(**{k: np.broadcast_to(np.asarray(v, dtype=np.float64), (B,))
                          for k, v in d.items()})


def _read(world, key: str) -> np.ndarray:
    name, what = key.split(".", 1)
    obj = world.named(name)
    if what == "force" and hasattr(obj, "history"):
        return obj.force()
    return world.io.read(obj.state_fields()[what], world.state_slot)
