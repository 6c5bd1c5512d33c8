"""Losses a dynamics model can be fitted with: likelihood, squared error, or VaGraM.

Every loss takes the ensemble's predictions `mean`, `logvar` and the `target`, each of
shape (members, batch, d + 1) in standardized units (the last column is the reward, the
others the state change), and `weight`, broadcastable to (members, batch, d): the
value-gradient weights of VaGraM (None for the others). All fit the reward column by
plain squared error. `value_gradient_weights` computes the weights from SAC's critics.

VaGraM (Voelcker, Liao, Garg and Farahmand, ICLR 2022) is Eq. 7 of the paper: the
first-order value error (grad V(s')^T (s_hat' - s'))^2 is bounded by Cauchy-Schwarz by
n sum_k (dV/ds_k)^2 (s_hat'_k - s'_k)^2; dropping n leaves an axis-aligned weighted squared
error whose unique minimum is the observed next state, so predictions stay on the data
while dimensions the value ignores (distractors) cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

# loss(mean, logvar, target, weight) -> scalar
Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def _reward_mse(mean: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((mean[..., -1] - target[..., -1]) ** 2).mean()


def mle(mean, logvar, target, weight=None) -> torch.Tensor:
    """Gaussian negative log-likelihood of the state change (up to constants):

        L = mean_{i,k} [ (mu_k(s_i, a_i) - y_ik)^2 exp(-logvar_k) + logvar_k ]
            + mean_i (r_hat_i - r_i)^2
    """
    err = (mean[..., :-1] - target[..., :-1]) ** 2
    return (err * torch.exp(-logvar[..., :-1]) + logvar[..., :-1]).mean() \
        + _reward_mse(mean, target)


def mse(mean, logvar, target, weight=None) -> torch.Tensor:
    """Squared error, every standardized state dimension weighted alike:

        L = mean_{i,k} (mu_k(s_i, a_i) - y_ik)^2 + mean_i (r_hat_i - r_i)^2
    """
    return ((mean[..., :-1] - target[..., :-1]) ** 2).mean() + _reward_mse(mean, target)


def vagram(mean, logvar, target, weight) -> torch.Tensor:
    """VaGraM, the paper's Eq. 7, axis-aligned and bounded:

        L = mean_i sum_k w_ik (mu_k(s_i, a_i) - y_ik)^2 + mean_i (r_hat_i - r_i)^2,
        w_ik = mean_c (dQ_c(s', mu(s'))/ds'_k |_{s' = s'_i})^2 * sigma_k^2

    with the gradient taken at the observed next state s'_i, averaged over the critics c,
    and sigma_k the standard deviation that standardizes dimension k, so the weighted
    error is the paper's one in raw state units.
    """
    if weight is None:
        raise ValueError("vagram needs value-gradient weights (value_gradient_weights)")
    err = (mean[..., :-1] - target[..., :-1]) ** 2
    return (weight * err).sum(-1).mean() + _reward_mse(mean, target)


def vagram_with_mse(mean, logvar, target, weight) -> torch.Tensor:
    """The warm start while the critic is young: L = L_vagram + L_mse (the paper adds the
    mean squared error during its first epoch, when the value gradients mean nothing)."""
    return vagram(mean, logvar, target, weight) + mse(mean, logvar, target)


LOSSES: dict[str, Loss] = {"mle": mle, "mse": mse, "vagram": vagram}


def get(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"model loss must be one of {sorted(LOSSES)}, got {name!r}")
    return LOSSES[name]


def value_gradient_weights(next_obs: np.ndarray, critics: list[Callable], actor: Callable,
                           chunk: int = 4096) -> np.ndarray:
    """(n, d) mean over critics of (dQ_c(s', mu(s'))/ds')^2 at the observed s' (raw units).

    `critics` map (obs, action) -> Q (n, 1); `actor` maps obs -> its mean action. The
    derivative is the total one: through the critic's state input and through mu(s').
    The result is detached: the model is fitted against a frozen critic.
    """
    out = []
    for start in range(0, len(next_obs), chunk):
        s = torch.as_tensor(next_obs[start:start + chunk], dtype=torch.float32)
        squares = torch.zeros_like(s)
        for critic in critics:
            x = s.clone().requires_grad_(True)
            q = critic(x, actor(x)).sum()
            (grad,) = torch.autograd.grad(q, x)
            squares += grad ** 2
        out.append((squares / len(critics)).numpy())
    return np.concatenate(out) if out else np.zeros((0, next_obs.shape[1]), np.float32)
