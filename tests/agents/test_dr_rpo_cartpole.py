"""Why DR-RPO and DR-LSVI-UCB return the same on RobustCartPole (reproduction settings).

On a continuous-state env every visited state is new to DR-RPO's table, so it acts with
the logits it gives a new state, log pi_ref + c_k Q-bar, where the mirror-descent weight
c_k tends to 1/beta (100 at beta = 0.01). Then either (a) both actions' optimistic Q sit
at the clip H - h (the bonus saturates), and both agents break the tie 50/50 with the
same random draw (79% of the decisions here), or (b) the Q gap times 100 makes the
softmax all but one-hot on the greedy action (0.0015 probability off it, summed over the
run). So both agents follow identical trajectories; a beta on the scale of the Q gaps
makes them part.
"""

from __future__ import annotations

import numpy as np

from tacsuite.agents import dr_lsvi_ucb, dr_rpo
from tacsuite.agents.common.linear import LinearLearner

# scripts/reproduce_dr_rpo.py's CartPole settings, 20 of its 100 training episodes.
SETTINGS = dict(env="tacsuite/RobustCartPole-v0", env_kwargs="n_centers=2,horizon=100",
                rho=0.05, bonus_scale=30.0, episodes=20, seed=0, out="")


def _record_decisions(monkeypatch) -> list[tuple[np.ndarray, np.ndarray, float]]:
    seen: list[tuple[np.ndarray, np.ndarray, float]] = []
    act = LinearLearner.act

    def recording_act(self, h, feats):
        if self.update == "pmd" and self.planned:
            seen.append((self.probs(h, feats), self.q_values(h, feats), self.v_max[h]))
        return act(self, h, feats)

    monkeypatch.setattr(LinearLearner, "act", recording_act)
    return seen


def test_dr_rpo_acts_greedily_on_cartpole_so_returns_match_dr_lsvi_ucb(monkeypatch):
    seen = _record_decisions(monkeypatch)
    learner, rpo = dr_rpo.fit(dr_rpo.Config(**SETTINGS))
    _, lsvi = dr_lsvi_ucb.fit(dr_lsvi_ucb.Config(**SETTINGS))
    assert rpo["mean_return"] == lsvi["mean_return"]
    # The weight on Q at new states approaches 1/beta (halving the gap each update).
    used = learner.weight[learner.weight > 0]
    assert np.all((used >= 0.9 / learner.beta) & (used <= 1 / learner.beta))
    ties, off_greedy = 0, []
    for p, q, clip in seen:
        if q[0] == q[1]:
            assert q[0] == clip  # (a) both at the optimistic clip H - h
            assert np.allclose(p, 0.5)
            ties += 1
        else:
            off_greedy.append(1.0 - p[int(np.argmax(q))])  # (b) mass off the greedy action
    assert len(seen) > 300 and ties / len(seen) > 0.3
    # Expected number of decisions in the whole run where DR-RPO's draw could differ from
    # greedy's: well below one.
    assert sum(off_greedy) < 0.1 and max(off_greedy) < 0.01


def test_a_beta_on_the_scale_of_the_q_gaps_separates_them():
    _, lsvi = dr_lsvi_ucb.fit(dr_lsvi_ucb.Config(**SETTINGS))
    _, rpo = dr_rpo.fit(dr_rpo.Config(**SETTINGS, beta=1.0))
    assert rpo["mean_return"] != lsvi["mean_return"]
