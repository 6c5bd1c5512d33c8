"""Multilayer perceptrons and one supervised training loop used by every offline agent."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from tacsuite.common.progress import progress
from tacsuite.common.threads import configure_torch_threads

configure_torch_threads()

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU}


def mlp(n_in: int, n_out: int, hidden: Sequence[int] = (256, 256), activation: str = "relu",
        out_activation: nn.Module | None = None) -> nn.Sequential:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    last = n_in
    for h in hidden:
        layers += [nn.Linear(last, int(h)), ACTIVATIONS[activation]()]
        last = int(h)
    layers.append(nn.Linear(last, n_out))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class Standardizer:
    """Per-feature mean/std scaling fitted once on training inputs."""

    def __init__(self, x: np.ndarray):
        x = np.asarray(x, dtype=np.float64)
        self.mean = torch.as_tensor(x.mean(0), dtype=torch.float32)
        self.std = torch.as_tensor(np.maximum(x.std(0), 1e-6), dtype=torch.float32)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    @classmethod
    def from_arrays(cls, mean: np.ndarray, std: np.ndarray) -> Standardizer:
        """The scaling a saved agent recorded (see tacsuite.agents.common.saved)."""
        out = cls.__new__(cls)
        out.mean = torch.as_tensor(np.asarray(mean), dtype=torch.float32)
        out.std = torch.as_tensor(np.asarray(std), dtype=torch.float32)
        return out


def fit(params, loss_fn: Callable[[np.ndarray], torch.Tensor], n: int, epochs: int,
        batch: int, lr: float, rng: np.random.Generator, weight_decay: float = 0.0,
        on_epoch: Callable[[int, float], None] | None = None, desc: str = "epochs",
        checkpoints=None) -> list[float]:
    """Minibatch Adam over index batches of a dataset of size n; returns per-epoch mean loss.

    `loss_fn(indices)` computes the loss of one batch, so the same loop serves regression,
    likelihood and sequence models. With `checkpoints`
    (tacsuite.agents.common.offline.Checkpoints over the trained modules) the loop saves
    itself every tenth of the epochs and a resumed run continues from the last save.
    """
    if n < 1 or epochs < 0 or batch < 1:
        raise ValueError(f"need n >= 1, epochs >= 0, batch >= 1; got {n}, {epochs}, {batch}")
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    curve: list[float] = []
    first = 0
    if checkpoints is not None:
        first, state = checkpoints.begin(epochs, opt=opt)
        curve = list(state.get("curve", []))
    for epoch in progress(range(first, epochs), total=epochs - first, desc=desc,
                          unit="epoch"):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            loss = loss_fn(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        curve.append(total / n)
        if on_epoch is not None:
            on_epoch(epoch, curve[-1])
        if checkpoints is not None:
            checkpoints.reached(epoch + 1, {"curve": curve})
    return curve


def tensor(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)
