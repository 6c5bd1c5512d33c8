import json
import os

import numpy as np
import pytest

from tacsuite.common import atomic
from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.runs import RunDir
from tacsuite.common.seeding import set_seed


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    path = tmp_path / "result.json"
    atomic.write_json(path, {"a": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic.write_json(path, {"a": Boom()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_jsonable_numpy_and_nonfinite(tmp_path):
    path = atomic.write_json(tmp_path / "x.json",
                             {"a": np.float32(1.5), "b": np.arange(3), "c": float("inf")})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [0, 1, 2], "c": None}


def test_read_json_names_corrupt_and_missing_paths(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        atomic.read_json(bad)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        atomic.read_json(tmp_path / "missing.json")


def test_run_dir_files(tmp_path):
    run = RunDir(tmp_path / "run", {"lr": 0.1, "seed": 3}, command="test")
    run.log(step=1, loss=0.5)
    run.log(step=2, loss=np.float64(0.25))
    run.save_array("returns", np.arange(4.0))
    run.write_result({"score": 1.0})
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["seed"] == 3 and cfg["config"]["lr"] == 0.1
    assert cfg["versions"]["numpy"] == np.__version__ and "git_sha" in cfg
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [1, 2]
    np.testing.assert_array_equal(np.load(tmp_path / "run" / "returns.npy"), np.arange(4.0))
    assert os.path.exists(tmp_path / "run" / "result.json")


def test_parse_kwargs():
    assert parse_kwargs("q=0.6,n=3,name=abc,t=(1,2),s='a,b'") == {
        "q": 0.6, "n": 3, "name": "abc", "t": (1, 2), "s": "a,b"}
    assert parse_kwargs("") == {}
    with pytest.raises(ValueError, match="bad key=value"):
        parse_kwargs("q0.6")


def test_set_seed_reproduces_numpy_and_torch():
    import torch

    set_seed(5)
    a = (np.random.rand(), torch.rand(1).item())
    set_seed(5)
    assert a == (np.random.rand(), torch.rand(1).item())
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)
