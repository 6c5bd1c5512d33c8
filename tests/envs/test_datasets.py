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


PARALLEL = """
import sys
from tacsuite.envs import datasets as D
write = D._write_locked
def counted(*args, **kwargs):
    print("WROTE", flush=True)
    return write(*args, **kwargs)
D._write_locked = counted
eps = D.load("gridstitch-optimal", seed=3)   # what every offline trainer calls first
print("RESULT", len(eps), float(sum(e["rewards"].sum() for e in eps)))
"""


def test_parallel_trainers_wait_for_one_writer(minari_root, tmp_path):
    """Three processes start at once on a fresh root and ask for the dataset the way the
    trainers do (`datasets.load`): one generates it, two wait for it and read it."""
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", PARALLEL],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-800:] for o in outs]
    assert sum(o[0].count("WROTE") for o in outs) == 1
    results = {line for o in outs for line in o[0].splitlines() if line.startswith("RESULT")}
    assert results == {"RESULT 20 " + str(float(sum(
        e["rewards"].sum() for e in D.read_episodes("tacsuite/gridstitch/optimal-s3-v0"))))}
    assert not list((minari_root / ".staging").iterdir())


KILLED = """
import os
import minari
from tacsuite.envs import datasets as D
real = minari.create_dataset_from_buffers
def write_then_die(*args, **kwargs):
    real(*args, **kwargs)       # the new dataset is complete in the staging folder ...
    os._exit(9)                 # ... when the process is killed, before the rename
minari.create_dataset_from_buffers = write_then_die
eps = D.collect("tacsuite/GridStitch-v0", D.grid_stitch_optimal_factory, 7, seed=1)
D.write_minari("tacsuite/gridstitch/optimal-n5-v0", eps, "tacsuite/GridStitch-v0")
"""


def test_a_killed_make_keeps_the_previous_dataset(minari_root):
    import json
    import os
    import subprocess
    import sys

    dataset_id = D.make("gridstitch-optimal", episodes=5)
    assert dataset_id == "tacsuite/gridstitch/optimal-n5-v0"
    # a writer of 7 episodes under the same id is killed mid-way
    p = subprocess.run([sys.executable, "-c", KILLED], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 9, p.stderr[-500:]
    meta = json.loads((D.dataset_path(dataset_id) / "data" / "metadata.json").read_text())
    assert meta["total_episodes"] == 5 == len(D.read_episodes(dataset_id))
    # a dataset whose metadata does not describe its file is refused, naming both counts
    other = D.write_minari("tacsuite/test/other-v0", D.collect(
        "tacsuite/GridStitch-v0", D.grid_stitch_optimal_factory, 3, seed=0),
        "tacsuite/GridStitch-v0")
    assert other.total_episodes == 3
    os.replace(D.dataset_path("tacsuite/test/other-v0") / "data" / "main_data.hdf5",
               D.dataset_path(dataset_id) / "data" / "main_data.hdf5")
    with pytest.raises(ValueError, match="counts 5 episodes but main_data.hdf5 holds 3"):
        D.read_episodes(dataset_id)
    # the dead writer's staging folder and lock are cleaned up by the next writer
    assert list((minari_root / ".staging").iterdir())
    D.make("gridstitch-optimal", episodes=5)
    assert not list((minari_root / ".staging").iterdir())


def test_other_sizes_never_replace_the_canonical_id(minari_root):
    assert D.resolve("gridstitch-optimal", 0, 20)[1] == "tacsuite/gridstitch/optimal-v0"
    assert D.resolve("gridstitch-optimal", 2, 8)[1] == "tacsuite/gridstitch/optimal-s2-n8-v0"
    canonical = D.make("gridstitch-optimal")
    small = D.make("gridstitch-optimal", episodes=3)
    assert canonical != small
    assert len(D.read_episodes(canonical)) == 20 and len(D.read_episodes(small)) == 3
    with pytest.raises(ValueError, match="--episodes"):
        D.resolve("gridstitch-optimal", 0, 0)


def test_minari_finds_the_datasets_by_itself(minari_root):
    import json

    import minari

    dataset_id = D.make("gridstitch-optimal", episodes=4)
    assert dataset_id in minari.list_local_datasets()
    ds = minari.load_dataset(dataset_id)
    assert ds.total_episodes == 4
    meta = json.loads((D.dataset_path(dataset_id) / "data" / "metadata.json").read_text())
    link = meta.get("code_permalink")
    assert link is None or (link.startswith("https://") and "localhost" not in link)
    # the staging and lock folders are hidden from Minari
    assert all(not k.startswith(".") for k in minari.list_local_datasets())
