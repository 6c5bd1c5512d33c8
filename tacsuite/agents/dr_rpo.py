"""DR-RPO: distributionally robust, KL-policy-regularised policy optimisation with linear
function approximation (after Gu, He, Liu & Xu, arXiv 2510.14246).

Online, in the nominal environment only. Each episode: roll out the softmax policy pi^k,
evaluate it optimistically and robustly backwards (ridge estimates of the next-state
values, per-factor worst case inside a TV / KL / chi-square ball of radius `rho` or the
penalised variant, d-rectangular UCB bonus, clip), with the regularised value
V_h(s) = <pi_h, Q_h> - beta KL(pi_h || pi_ref) and a uniform reference policy; then take
the KL-regularised mirror-descent step

    pi^{k+1}_h ∝ (pi^k_h)^{1/(1+eta beta)} pi_ref^{eta beta/(1+eta beta)} exp(eta Q_h/(1+eta beta)),

which keeps every policy softmax. `update="soft"` is the eta -> infinity limit
(pi ∝ pi_ref exp(Q/beta), V = beta log E_ref exp(Q/beta)); beta -> 0 gives the hard max of
DR-LSVI-UCB and rho = 0 the non-robust algorithm.

Reconstruction notes (the paper's algorithm box was not available): the update form,
the bonus and the evaluation with <pi, Q> - beta KL are the standard choices of this line
of work. Exact mirror descent keeps, for every state met so far, its logits; a state met
for the first time starts from log pi_ref + c_k Q-bar^k(s, .), with c_k the total weight
the updates have put on the Q's (exact if Q-bar had not changed over the past episodes;
it keeps the bonus, so new states are explored optimistically). On finite-state envs
every state enters the table early and the update is exact mirror descent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tacsuite.agents.common.linear import LinearLearner
from tacsuite.agents.common.linear_config import RobustLinearConfig
from tacsuite.agents.common.linear_runs import train_linear


@dataclass
class Config(RobustLinearConfig):
    out: str = "runs/dr-rpo"
    """Run folder (config.json, metrics.jsonl, result.json, returns.npy, policy.json)."""
    beta: float = 0.01
    """KL policy-regularisation weight toward the uniform reference policy (> 0)."""
    eta: float = 100.0
    """Mirror-descent step size."""
    update: Literal["pmd", "soft"] = "pmd"
    """Policy update: mirror descent, or its eta -> infinity limit (soft value iteration)."""


def fit(config: Config) -> tuple[LinearLearner, dict]:
    return train_linear(config, "dr-rpo",
                        dict(config.learner_options(), beta=config.beta, eta=config.eta,
                             update=config.update),
                        rho=config.rho, rho_mask=config.rho_mask,
                        track_suboptimality=config.track_suboptimality)


def train(config: Config) -> dict:
    """Train in the nominal environment; write the run folder; return result.json's dict."""
    return fit(config)[1]
