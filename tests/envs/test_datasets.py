"""Offline datasets: exact Minari round trip, D4RL layout, clear errors, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.cli import main as cli_main
from tacsuite.envs import datasets as D

KEYS = ("observations", "actions", "rewards", "terminations", "truncations")


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    return tmp_path / "minari"


def test_default_root_is_minaris_own(monkeypatch, tmp_path):
    from minari.storage.datasets_root_dir import get_dataset_path

    monkeypatch.delenv("MINARI_DATASETS_PATH")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert D.datasets_root() == D.default_root() == tmp_path / ".minari" / "datasets"
    assert Path(get_dataset_path("tacsuite/x/y-v0")).parent.parent.parent == D.datasets_root()


def test_minari_round_trip_is_exact(minari_root):
    eps = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 6, seed=5)
    D.write_minari("tacsuite/test/rt-v0", eps, "tacsuite/GridStitch-v0")
    back = D.read_episodes("tacsuite/test/rt-v0")
    assert len(back) == 6
    for a, b in zip(eps, back, strict=True):
        for k in KEYS:
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
    assert (minari_root / "tacsuite/test/rt-v0/data/main_data.hdf5").is_file()


def test_discrete_env_round_trip():
    eps = D.collect("tacsuite/RiverSwim-v0", D.random_policy_factory, 3, seed=1, max_steps=25)
    D.write_minari("tacsuite/test/river-v0", eps, "tacsuite/RiverSwim-v0")
    back = D.read_episodes("tacsuite/test/river-v0")
    for a, b in zip(eps, back, strict=True):
        assert np.array_equal(a["observations"], b["observations"])
        assert np.array_equal(a["actions"], b["actions"])
    assert all(len(e["rewards"]) == 25 and e["truncations"][-1] for e in back)


def test_same_seed_same_data_different_seed_differs():
    a = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 4, seed=2)
    b = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 4, seed=2)
    c = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 4, seed=3)
    assert all(np.array_equal(x["actions"], y["actions"]) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0]["actions"], c[0]["actions"])


def test_d4rl_adapter_layout():
    eps = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 3, seed=0)
    d = D.to_d4rl(eps)
    n = sum(len(e["rewards"]) for e in eps)
    assert set(D.D4RL_KEYS) <= set(d)
    assert all(len(d[k]) == n for k in D.D4RL_KEYS)
    # next_observations shift by one step inside an episode, never across episodes
    assert np.array_equal(d["next_observations"][:-1][d["episode_ids"][:-1] ==
                                                      d["episode_ids"][1:]],
                          d["observations"][1:][d["episode_ids"][:-1] == d["episode_ids"][1:]])
    assert d["timeouts"].sum() == 3 and np.flatnonzero(d["timeouts"]).tolist() == [39, 79, 119]
    assert not d["terminals"].any()
    assert d["rewards"].sum() == pytest.approx(sum(e["rewards"].sum() for e in eps))


def test_missing_dataset_names_the_path(minari_root):
    with pytest.raises(FileNotFoundError, match=str(minari_root / "tacsuite/test/none-v0")):
        D.read_episodes("tacsuite/test/none-v0")


def test_corrupt_dataset_names_the_path(minari_root):
    eps = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 2, seed=0)
    D.write_minari("tacsuite/test/bad-v0", eps, "tacsuite/GridStitch-v0")
    data = minari_root / "tacsuite/test/bad-v0/data/main_data.hdf5"
    data.write_bytes(b"not an hdf5 file")
    with pytest.raises(ValueError, match="corrupt") as info:
        D.read_episodes("tacsuite/test/bad-v0")
    assert str(minari_root / "tacsuite/test/bad-v0") in str(info.value)
    (minari_root / "tacsuite/test/bad-v0/data/metadata.json").write_text("{broken")
    with pytest.raises(ValueError, match="bad-v0"):
        D.read_episodes("tacsuite/test/bad-v0")


def test_unknown_name_and_seed_suffix():
    with pytest.raises(ValueError, match="gridstitch-mixed"):
        D.resolve("nope")
    assert D.resolve("gridstitch-mixed", 0)[1] == "tacsuite/gridstitch/mixed-v0"
    assert D.resolve("gridstitch-mixed", 7)[1] == "tacsuite/gridstitch/mixed-s7-v0"


def test_reference_scores_order():
    lo, hi = D.reference_scores("tacsuite/GridStitch-v0")
    assert lo < 1.0 and hi >= 29.0
    assert D.normalized_score("tacsuite/GridStitch-v0", hi) == pytest.approx(100.0)


def test_cli_make_then_load(capsys, minari_root):
    assert cli_main(["data", "make", "gridstitch-mixed", "--seed", "4", "--episodes", "6"]) == 0
    assert "tacsuite/gridstitch/mixed-s4-n6-v0: 6 episodes" in capsys.readouterr().out
    eps = D.read_episodes("tacsuite/gridstitch/mixed-s4-n6-v0")
    ref = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_mixed_factory, 6, seed=4)
    assert np.array_equal(eps[5]["observations"], ref[5]["observations"])
    assert cli_main(["data", "make", "nope"]) == 2
