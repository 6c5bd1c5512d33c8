"""The simulated d-rectangular linear MDP of Liu & Xu (AISTATS 2024), with its shift `q`."""

from __future__ import annotations

from typing import Any

import numpy as np

from tacsuite.envs.tabular import TabularEnv
from tacsuite.envs.validation import check_action, check_real
from tacsuite.theory.robust import DRectModel

N_STATES, N_ACTIONS, DIM, HORIZON = 5, 16, 4, 3
START, FAIL, GOAL = 0, 3, 4


def action_vectors() -> np.ndarray:
    """(16, 4) array: row j is a in {-1, +1}^4 with a_i = +1 iff bit i of j is set."""
    j = np.arange(N_ACTIONS)[:, None]
    return np.where((j >> np.arange(DIM)[None, :]) & 1, 1.0, -1.0)


def linear_mdp_model(q: float = 0.0, delta: float = 0.3, xi_norm: float = 0.2,
                     step1_leak: float | None = None) -> DRectModel:
    """The d-rectangular model (phi, mu, theta) of the testbed with step-1 shift q.

    The nominal model (q = 0) leaks 0.001 of factor 1 into the fail state; the shifted
    environments of the testbed (q > 0) move from x1 to x2 with probability exactly 1 - p.
    `step1_leak` overrides that leak (e.g. 0.001 for the "shift factor 4 only" model whose
    value equals the TV-robust value at radius q exactly).
    """
    q = check_real("q", q, 0.0, 1.0)
    delta = check_real("delta", delta, 0.0, 1.0)
    xi_norm = check_real("xi_norm", xi_norm, 0.0, 1.0)
    if xi_norm < 0 or delta - xi_norm < 0 or delta + xi_norm > 1:
        raise ValueError(f"need 0 <= delta - xi_norm and delta + xi_norm <= 1 so that p(a) is "
                         f"a probability; got delta={delta}, xi_norm={xi_norm}")
    p = delta + action_vectors() @ np.full(DIM, xi_norm / DIM)       # (A,)
    phi = np.zeros((N_STATES, N_ACTIONS, DIM))
    for s in range(3):
        phi[s, :, s] = 1.0 - p
        phi[s, :, 3] = p
    phi[FAIL, :, 2] = 1.0
    phi[GOAL, :, 3] = 1.0
    mu = np.zeros((HORIZON, DIM, N_STATES))
    mu[:, 0, 1], mu[:, 0, FAIL] = 0.999, 0.001    # factor 1: x1 -> x2, small leak to fail
    mu[:, 1, 2], mu[:, 1, FAIL] = 0.999, 0.001    # factor 2: x2 -> x3, small leak to fail
    mu[:, 2, FAIL] = 1.0                          # factor 3: the fail state
    mu[:, 3, GOAL] = 1.0                          # factor 4: the goal
    leak = (0.001 if q == 0 else 0.0) if step1_leak is None else \
        check_real("step1_leak", step1_leak, 0.0, 1.0)
    mu[0, 0, 1], mu[0, 0, FAIL] = 1.0 - leak, leak
    mu[0, 3, GOAL], mu[0, 3, FAIL] = 1.0 - q, q   # the shift acts on step 1 only
    theta = np.zeros((HORIZON, DIM))
    theta[1:, 3] = 1.0
    initial = np.eye(N_STATES)[START]
    return DRectModel(phi=phi, mu=mu, theta=theta, initial=initial)


class SimulatedLinearMDPEnv(TabularEnv):
    """Liu & Xu's 5-state d-rectangular linear MDP: reach the goal early, or risk failing.

    ## Description
    The off-dynamics testbed of Liu & Xu (AISTATS 2024) for distributionally robust RL with
    linear function approximation. States x1..x5 are numbered 0..4; x4 (3) is an absorbing
    fail state, x5 (4) an absorbing goal. Each action a in {-1, +1}^4 sets
    p(a) = delta + xi^T a with xi = (xi_norm / 4) * 1: the probability of jumping to the
    goal. Features phi(x1, a) = (1-p, 0, 0, p), phi(x2, a) = (0, 1-p, 0, p),
    phi(x3, a) = (0, 0, 1-p, p), phi(x4, .) = e3, phi(x5, .) = e4 form a d-rectangular
    linear MDP with d = 4. With `q > 0` the step-1 jump from x1 lands in the fail state with
    probability q * p instead of the goal: the test-time shift robust agents prepare for.

    ## Action Space
    `Discrete(16)`: index j <-> a in {-1, +1}^4 with a_i = +1 iff bit i of j is set.

    ## Observation Space
    `Discrete(5)`: the index of the current state. `info["features"]` holds phi(s, a) for
    all 16 actions as a float64 array (16, 4); `info["step"]` is the step h in 0..2.

    ## Rewards
    0 at step 1 and phi_4(s, a) at steps 2 and 3 (1 in the goal, p(a) in x2/x3, 0 in fail).
    The best nominal return is about 1.62.

    ## Transitions
    Step 1 from x1: x2 w.p. 0.999 (1-p), x4 w.p. 0.001 (1-p), x5 w.p. p (nominal, q = 0)
    or x2 w.p. 1-p, x4 w.p. q p, x5 w.p. (1-q) p (shifted, q > 0). Step 2 from x2: x3 w.p.
    0.999 (1-p), x4 w.p. 0.001 (1-p), x5 w.p. p. From x3: x4 w.p. 1-p, x5 w.p. p.

    ## Starting State
    x1 (state 0).

    ## Episode End
    Truncated after H = 3 steps; never terminated (the absorbing states keep paying).

    ## Arguments
    `gym.make("tacsuite/SimulatedLinearMDP-v0", q=0.0, delta=0.3, xi_norm=0.2)`. The
    unwrapped env exposes `P` (S x A x S) and `R` (S x A) (each state is visited at one
    step only, so the stationary arrays are exact), the per-step `P_h` (H x S x A x S) and
    `R_h`, the d-rectangular `model` (`tacsuite.theory.robust.DRectModel`), `features(s)`
    and `uncertain` (H x d mask: the factor the shift acts on, factor 4 at step 1).

    ## Version History
    - v0: initial version.
    """

    horizon = HORIZON
    max_reward = 1.0

    def __init__(self, q: float = 0.0, delta: float = 0.3, xi_norm: float = 0.2,
                 render_mode: str | None = None):
        self.model = linear_mdp_model(q, delta, xi_norm)
        self.q, self.delta, self.xi_norm = float(q), float(delta), float(xi_norm)
        self.P_h = self.model.transitions()
        self.R_h = self.model.rewards()
        # Stationary arrays: row s from the step at which s can be occupied.
        visit_step = np.array([0, 1, 2, 1, 1])
        P = self.P_h[visit_step, np.arange(N_STATES)]
        R = self.R_h[visit_step, np.arange(N_STATES)]
        super().__init__(P, R, self.model.initial, render_mode=render_mode)
        self._features = self.model.phi.copy()
        self.uncertain = np.zeros((HORIZON, DIM), dtype=bool)
        self.uncertain[0, 3] = True
        self.h = 0

    def features(self, state: int) -> np.ndarray:
        """phi(state, a) for every action, shape (16, 4)."""
        return self._features[int(state)].copy()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, _ = super().reset(seed=seed, options=options)
        self.h = 0
        return obs, {"features": self.features(self.state), "step": 0}

    def step(self, action):
        a = check_action(self.action_space, action)
        s, h = self.state, self.h
        reward = float(self.R_h[h, s, a])
        self.state = self._draw(np.cumsum(self.P_h[h, s, a]))
        self.h = h + 1
        info = {"features": self.features(self.state), "step": self.h}
        return np.int64(self.state), reward, False, self.h >= HORIZON, info

