"""The stitching property: RCSL stays at the dataset's best return, MBRCSL goes beyond it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tacsuite.agents import bc, mbrcsl, pbc, rcsl

SMALL = dict(eval_episodes=10)
SEEDS = (0, 1)


@pytest.fixture(scope="module", autouse=True)
def minari_root(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MINARI_DATASETS_PATH", str(tmp_path_factory.mktemp("minari")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    res = {"rcsl": [], "mbrcsl": []}
    for s in SEEDS:
        res["rcsl"].append(rcsl.train(rcsl.Config(
            seed=s, out=str(out / f"rcsl{s}"), hidden=(128, 128), epochs=15, **SMALL)))
        res["mbrcsl"].append(mbrcsl.train(mbrcsl.Config(
            seed=s, out=str(out / f"mbrcsl{s}"), model_hidden=(128, 128), model_epochs=8,
            behavior_hidden=(128, 128), behavior_epochs=10, rcsl_hidden=(128, 128),
            rcsl_epochs=15, keep=100, **SMALL)))
    res["out"] = out
    return res


def test_rcsl_does_not_exceed_dataset_best(results):
    for r in results["rcsl"]:
        assert r["dataset_max_return"] == 23.0
        assert r["eval_return"] <= r["dataset_max_return"] + 1.0


def test_mbrcsl_stitches_beyond_dataset_best(results):
    mb = np.array([r["eval_return"] for r in results["mbrcsl"]])
    rc = np.array([r["eval_return"] for r in results["rcsl"]])
    assert mb.mean() - rc.mean() > 3.0
    assert mb.min() > 23.0 + 2.0
    for r in results["mbrcsl"]:
        assert r["kept_rollouts"] == 100 and r["model_return_max"] > 23.0
        assert r["success_rate"] == 1.0
        assert set(r["stage_seconds"]) == {"dynamics", "behavior", "rollouts", "rcsl", "eval"}


def test_run_folder_contract(results):
    run = results["out"] / "mbrcsl0"
    res = json.loads((run / "result.json").read_text())
    for key in ("eval_return", "normalized_score", "success_rate", "seconds", "curves"):
        assert key in res
    assert json.loads((run / "config.json").read_text())["config"]["seed"] == 0
    kept = np.load(run / "rollouts_kept.npy")
    assert kept.shape == (100, 41, 2)
    # kept model rollouts pass the midpoint and end near the goal: the stitched route
    assert np.median(kept[:, -1, 0]) > 4.0 and np.median(kept[:, -1, 1]) > 2.0


def test_bc_and_percent_bc_same_seed_same_result(tmp_path):
    a = bc.train(bc.Config(seed=0, out=str(tmp_path / "a"), epochs=3, **SMALL))
    b = bc.train(bc.Config(seed=0, out=str(tmp_path / "b"), epochs=3, **SMALL))
    assert a["eval_return"] == b["eval_return"] and a["curves"] == b["curves"]
    p = pbc.train(pbc.Config(seed=0, out=str(tmp_path / "p"), epochs=15, **SMALL))
    assert p["episodes_cloned"] == 40
    # the top 10% are all detour episodes, so %BC reproduces the detour's success
    assert p["success_rate"] >= 0.8 and p["eval_return"] <= 24.0


def test_bad_config_values(tmp_path):
    with pytest.raises(ValueError, match="--eval-episodes"):
        rcsl.train(rcsl.Config(out=str(tmp_path), eval_episodes=0))
    with pytest.raises(ValueError, match="unknown dataset"):
        bc.train(bc.Config(out=str(tmp_path), dataset="nope"))


def test_dt_lite_conditions_on_returns_but_does_not_reach_the_stitch(tmp_path):
    from tacsuite.agents import dt_lite

    r = dt_lite.train(dt_lite.Config(seed=0, out=str(tmp_path), epochs=1, context=5, embed=32,
                                     layers=1, **SMALL))
    assert r["target_return"] == 23.0
    assert 18.0 <= r["eval_return"] <= 26.0 and r["success_rate"] >= 0.8


def test_iql_bootstraps_past_the_dataset_best(tmp_path):
    from tacsuite.agents import iql

    r = iql.train(iql.Config(seed=0, out=str(tmp_path), steps=2000, hidden=(64, 64), **SMALL))
    # dynamic programming can stitch here: a 2-D state keeps the small class near-complete
    assert r["eval_return"] > r["dataset_max_return"] + 1.0
    assert len(r["curves"]["q_loss"]) == 4


def test_mbrcsl_falls_back_to_rcsl_when_nothing_passes_the_filter(tmp_path):
    r = mbrcsl.train(mbrcsl.Config(
        seed=0, out=str(tmp_path), model_hidden=(32,), model_epochs=1, behavior_hidden=(32,),
        behavior_epochs=1, rcsl_hidden=(32,), rcsl_epochs=2, rollout_batch=50, max_rounds=2,
        margin=100.0, eval_episodes=2))
    assert r["kept_rollouts"] == 0 and r["generated_rollouts"] == 100
    assert r["target_return"] == 23.0  # conditioned on the dataset, as plain RCSL
    assert not (tmp_path / "rollouts_kept.npy").exists()
