"""Torch bridge: a world rollout as a differentiable torch function.

    fn = rollout_fn(world, driven=("ball",), params={"gel": ("E",), "press": ("kn", "mu")},
                    outputs=("press.force", "gel.x"))
    force, x = fn(actions, E, kn, mu)     # actions (T, B, 6 * len(driven)); params (B,)
    loss = torch_loss(force, x); loss.backward()

The forward resets the world, sets the parameters, runs T = actions.shape[0] control steps
and returns, per output, a pair's force at every step (T, B, 3) or a body's state output
after the last step (B, n, 3). Its backward is the world's reverse pass
(`World.backward`): torch optimisers, losses and learned read-out models chain onto the
physics. Tensors are float64 on the CPU (the world's float type is its own).
"""

import numpy as np
import torch

from tacsuite.sim.world import World


def rollout_fn(world: World, driven=(), params=None, outputs=()):
    """A function (actions, *params) -> tuple of output tensors; see the module docstring."""
    if not world.requires_grad:
        raise ValueError("rollout_fn needs a World created with requires_grad=True")
    driven = tuple(driven)
    params = {k: tuple(v) for k, v in (params or {}).items()}
    outputs = tuple(outputs)
    if not outputs:
        raise ValueError("name at least one output, e.g. outputs=('press.force',)")
    tracks = {b.name for b in world.bodies if b.pose_track is not None}
    for name in driven:
        if name not in tracks:
            raise ValueError(f"driven body {name!r} is not action-driven; have {sorted(tracks)}")
    for name, names in params.items():
        obj = world.named(name)
        bad = set(names) - set(obj.param_names)
        if bad:
            raise ValueError(f"{name!r} has no parameter(s) {sorted(bad)}; it has "
                             f"{list(obj.param_names)}")
    kinds = []
    for key in outputs:
        name, what = key.split(".", 1) if "." in key else (key, "")
        obj = world.named(name)
        if what not in obj.outputs:
            raise ValueError(f"{key!r}: {name!r} has outputs {list(obj.outputs)}")
        kinds.append((name, what, hasattr(obj, "history") and what == "force"))
    flat = [(name, p) for name, names in params.items() for p in names]
    B = world.batch

    def run(actions: np.ndarray, values: list) -> list:
        world.reset()
        for (name, p), v in zip(flat, values, strict=True):
            world.named(name).set_params(**{p: v})
        for t in range(actions.shape[0]):
            world.step({n: actions[t, :, 6 * i:6 * i + 6] for i, n in enumerate(driven)})
        out = []
        for name, what, per_step in kinds:
            obj = world.named(name)
            if per_step:
                out.append(np.array(obj.history))
            else:
                out.append(world.io.read(obj.state_fields()[what], world.state_slot))
        return out

    class _Rollout(torch.autograd.Function):
        @staticmethod
        def forward(ctx, actions, *values):
            a = actions.detach().cpu().numpy().astype(np.float64)
            if a.ndim != 3 or a.shape[1] != B or a.shape[2] != 6 * len(driven):
                raise ValueError(f"actions must have shape (T, {B}, {6 * len(driven)}), "
                                 f"got {tuple(a.shape)}")
            vals = [v.detach().cpu().numpy().astype(np.float64) for v in values]
            ctx.T = a.shape[0]
            res = run(a, vals)
            return tuple(torch.as_tensor(r, dtype=torch.float64) for r in res)

        @staticmethod
        def backward(ctx, *grads):
            T = ctx.T
            seeds = {}
            for (name, what, per_step), gr in zip(kinds, grads, strict=True):
                if gr is None:
                    continue
                g = gr.detach().cpu().numpy().astype(np.float64)
                if per_step:
                    for t in range(T):
                        seeds.setdefault(t + 1, {})[f"{name}.{what}"] = g[t]
                else:
                    seeds.setdefault(T, {})[f"{name}.{what}"] = g
            res = world.backward(seeds)
            ga = np.concatenate([res["actions"][n] for n in driven], axis=2) if driven \
                else np.zeros((T, B, 0))
            gp = [torch.as_tensor(res["params"][name][p], dtype=torch.float64)
                  for name, p in flat]
            return (torch.as_tensor(ga, dtype=torch.float64), *gp)

    def fn(actions, *values):
        if len(values) != len(flat):
            raise ValueError(f"expected {len(flat)} parameter tensors {flat}, got {len(values)}")
        return _Rollout.apply(actions, *values)

    fn.parameters = flat
    return fn
