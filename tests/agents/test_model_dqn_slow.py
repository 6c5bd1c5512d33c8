"""PanFlute with 3 pipes: at the same number of Q updates, the learned-model agent earns a
higher average greedy reward than ER-DQN over 3 seeds (the settings of
scripts/reproduce_model_generalization.py; about 4 minutes on one idle core)."""

from __future__ import annotations

import numpy as np
import pytest

from tacsuite.agents import er_dqn, model_dqn

SETTINGS = dict(env="tacsuite/PanFlute-v0", env_kwargs="num_pipes=3", steps=4000,
                start_steps=1000, hidden=(64, 64), lr=2e-4, temperature=0.4, eval_every=250,
                eval_steps=100, eval_episodes=8)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "not met at this budget: on seeds 0-2 ER-DQN averages 0.289 greedy reward per step over "
    "the run, model-DQN 0.260; ER reaches the optimum after ~750 updates, model-DQN after "
    "~1500-2000, and both end at 0.40 (scripts/reproduce_model_generalization.py)"))
def test_model_dqn_beats_er_dqn_on_three_pipes_at_equal_updates(tmp_path):
    er, model = [], []
    for seed in range(3):
        er.append(er_dqn.train(er_dqn.Config(**SETTINGS, seed=seed,
                                             out=str(tmp_path / f"er{seed}"))))
        model.append(model_dqn.train(model_dqn.Config(**SETTINGS, model_lr=1e-3, seed=seed,
                                                      out=str(tmp_path / f"model{seed}"))))
    assert [r["updates"] for r in er] == [r["updates"] for r in model] == [3000] * 3
    er_curve = np.mean([r["eval_curve"] for r in er], axis=0)
    model_curve = np.mean([r["eval_curve"] for r in model], axis=0)
    # average reward over the whole run: the curves share their evaluation points
    assert model_curve.mean() > er_curve.mean()
    assert np.mean([r["final_score"] for r in model]) > 0.35  # the optimum is 0.41
