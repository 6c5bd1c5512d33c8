"""A low-rank linear average-reward MDP: P(.|s,a) = sum_i phi_i(s,a) mu_i(.)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacsuite.envs.garnet import MAX_ACTIONS, MAX_STATES
from tacsuite.envs.tabular import TabularEnv
from tacsuite.envs.validation import check_int


@dataclass(frozen=True)
class LinearAMDPModel:
    phi: np.ndarray    # (S, A, d): probability vectors
    mu: np.ndarray     # (d, S): each row a distribution over next states
    theta: np.ndarray  # (d,): reward weights in [0, 1]

    @property
    def P(self) -> np.ndarray:
        return self.phi @ self.mu

    @property
    def R(self) -> np.ndarray:
        return self.phi @ self.theta


def linear_amdp_model(n_states: int = 20, n_actions: int = 4, d: int = 5,
                      instance_seed: int = 0, concentration: float = 0.3) -> LinearAMDPModel:
    """Draw (phi, mu, theta) of a rank-d linear AMDP.

    Each factor i has a "home" region of states: mu_i is a Dirichlet(concentration) draw
    restricted to S/d home states plus a 5% uniform floor, so every P(.|s,a) has full
    support (the chain is ergodic) while factors still lead to different places.
    phi(s, a) is Dirichlet(concentration) in d dimensions and theta_i is uniform in [0, 1]
    with one factor paying 1, so the reward R = phi theta lies in [0, 1].
    """
    S = check_int("n_states", n_states, 2, MAX_STATES)
    A = check_int("n_actions", n_actions, 1, MAX_ACTIONS)
    d = check_int("d", d, 1)
    if d > S:
        raise ValueError(f"d must be in [1, n_states={S}], got {d}")
    seed = check_int("instance_seed", instance_seed, 0)
    if not np.isfinite(concentration) or concentration <= 0:
        raise ValueError(f"concentration must be > 0, got {concentration!r}")
    rng = np.random.default_rng(seed)
    phi = rng.dirichlet(np.full(d, concentration), size=(S, A))
    homes = np.array_split(rng.permutation(S), d)
    mu = np.full((d, S), 0.05 / S)
    for i, home in enumerate(homes):
        mu[i, home] += 0.95 * rng.dirichlet(np.full(home.size, 1.0))
    mu /= mu.sum(1, keepdims=True)
    theta = rng.random(d) * 0.5
    theta[rng.integers(d)] = 1.0
    return LinearAMDPModel(phi=phi, mu=mu, theta=theta)


class LinearAMDPEnv(TabularEnv):
    """A low-rank linear average-reward MDP with features phi(s, a) in the simplex.

    ## Description
    A continuing MDP whose transitions factor through d latent factors:
    P(s' | s, a) = sum_i phi_i(s, a) mu_i(s') and R(s, a) = phi(s, a)^T theta, with
    phi(s, a) a probability vector. It is a linear MDP (Jin et al. 2020) in the
    average-reward setting, so Q* + J* = phi^T w* for some w*; learners see the features,
    the exact oracles see `P` and `R`.

    ## Action Space
    `Discrete(n_actions)`.

    ## Observation Space
    `Discrete(n_states)`. `info["features"]` (at reset and every step) holds phi(s, .) of
    the new state as an (n_actions, d) float64 array.

    ## Rewards
    R(s, a) = phi(s, a)^T theta in [0, 1] (deterministic given (s, a)).

    ## Starting State
    State 0.

    ## Episode End
    Never terminates; the registered `TimeLimit` truncates after 1,000 steps for episodic
    loops, which the average-reward learners ignore.

    ## Arguments
    `gym.make("tacsuite/LinearAMDP-v0", n_states=20, n_actions=4, d=5, instance_seed=0)`.
    The unwrapped env exposes `P`, `R`, `phi`, `mu`, `theta` and `features(s)`.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, n_states: int = 20, n_actions: int = 4, d: int = 5,
                 instance_seed: int = 0, render_mode: str | None = None):
        model = linear_amdp_model(n_states, n_actions, d, instance_seed)
        super().__init__(model.P, model.R, np.eye(model.P.shape[0])[0],
                         render_mode=render_mode)
        self.phi, self.mu, self.theta = model.phi, model.mu, model.theta
        self.d = self.phi.shape[2]
        self.reward_bounds = (0.0, 1.0)

    def features(self, s: int) -> np.ndarray:
        return self.phi[int(s)].copy()

    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        info["features"] = self.features(self.state)
        return obs, info

    def step(self, action):
        obs, reward, term, trunc, info = super().step(action)
        info["features"] = self.features(self.state)
        return obs, reward, term, trunc, info
