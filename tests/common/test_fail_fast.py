"""Bad input fails before any work: env ids, --env-kwargs, numeric options, --out, extras."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest

from tacsuite.cli import main
from tacsuite.common.validate import (
    POSITIVE,
    UNIT,
    MissingExtra,
    check_env_kwargs,
    check_numbers,
    require,
)


@dataclass
class Options:
    lr: float = 1e-3
    share: float = 0.5
    hidden: tuple[int, ...] = (8, 8)
    name: str = "x"

    LIMITS: ClassVar[dict] = {"lr": POSITIVE, "share": UNIT, "hidden": POSITIVE}


def test_numbers_finite_and_in_range():
    check_numbers(Options())
    with pytest.raises(ValueError, match=r"--lr must be a finite number, got nan"):
        check_numbers(Options(lr=math.nan))
    with pytest.raises(ValueError, match=r"--share must be in \[0, 1\], got 1.5"):
        check_numbers(Options(share=1.5))
    with pytest.raises(ValueError, match=r"--hidden must be > 0, got \(8, 0\)"):
        check_numbers(Options(hidden=(8, 0)))
    with pytest.raises(ValueError, match="--lr must be a finite number, got inf"):
        check_numbers(Options(lr=math.inf))


def test_env_kwargs_against_the_signature():
    check_env_kwargs("tacsuite/AmericanPutOption-v0", {"p": 0.3, "d": 10})
    check_env_kwargs("tacsuite/AmericanPutOption-v0", {"p": 1})  # an int is a float
    with pytest.raises(ValueError, match=r"takes no argument bogus; it takes: p, d"):
        check_env_kwargs("tacsuite/AmericanPutOption-v0", {"bogus": 1})
    with pytest.raises(ValueError, match=r"d='ten': .* expects int"):
        check_env_kwargs("tacsuite/AmericanPutOption-v0", {"d": "ten"})
    with pytest.raises(ValueError, match=r"p=True"):
        check_env_kwargs("tacsuite/AmericanPutOption-v0", {"p": True})
    with pytest.raises(ValueError, match="unknown environment id 'tacsuite/Nope-v0'"):
        check_env_kwargs("tacsuite/Nope-v0", {})


@pytest.mark.parametrize("argv, words", [
    (["train", "dr-rpo", "--env-kwargs", "bogus=1", "--episodes", "5"], ["bogus", "takes"]),
    (["train", "dr-rpo", "--rho", "nan", "--episodes", "5"], ["--rho", "finite"]),
    (["train", "dr-rpo", "--lam", "0", "--episodes", "5"], ["--lam", "> 0"]),
    (["train", "lsvi-ucb", "--env", "tacsuite/Nope-v0"], ["unknown environment id"]),
    (["train", "bc", "--env-kwargs", "bogus=1"], ["bogus"]),
    (["train", "iql", "--expectile", "1.0"], ["--expectile", "(0, 1)"]),
    (["train", "dt-lite", "--embed", "30", "--heads", "4"], ["--embed", "--heads"]),
    (["train", "rcsl", "--target", "best"], ["pNN"]),
    (["train", "mbrcsl", "--env", "tacsuite/RiverSwim-v0"], ["continuous", "RiverSwim"]),
    (["train", "bc", "--env", "tacsuite/RobustCartPole-v0"], ["RobustCartPole"]),
    (["evaluate", "nowhere"], ["nowhere"]),
    (["data", "make", "gridstitch-mixed", "--episodes", "0"], ["--episodes"]),
])
def test_cli_refuses_before_any_work(argv, words, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    assert main(argv + (["--out", str(tmp_path / "run")] if argv[0] == "train" else [])) == 2
    err = capsys.readouterr().err
    assert err.startswith("tacsuite: error:") and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    # nothing was trained or generated
    assert not (tmp_path / "run").exists() and not (tmp_path / "minari").exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["train", "lsvi-ucb", "--episodes", "5", "--out", str(tmp_path / "f")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["train", "bc", "--out", str(tmp_path / "f")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_missing_extra_names_the_extra(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_minari(name, *args, **kwargs):
        if name == "minari" or name.startswith("minari."):
            raise ImportError("No module named 'minari'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_minari)
    monkeypatch.delitem(__import__("sys").modules, "minari", raising=False)
    with pytest.raises(MissingExtra, match=r"pip install 'tacsuite\[offline\]'"):
        require("minari", "offline", "offline datasets")
    assert main(["data", "make", "gridstitch-optimal", "--episodes", "2"]) == 2
    assert "tacsuite[offline]" in capsys.readouterr().err


def test_an_env_of_a_missing_extra_names_it(capsys):
    from tacsuite.envs.registration import ENVS

    optional = [e for e in ENVS if e.extra and not e.available()]
    if not optional:
        pytest.skip("every optional extra is installed here")
    entry = optional[0]
    assert main(["train", "bc", "--env", entry.id]) == 2
    assert f"pip install 'tacsuite[{entry.extra}]'" in capsys.readouterr().err
