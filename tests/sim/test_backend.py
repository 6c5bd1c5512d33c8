import subprocess
import sys

import pytest


def _run(code: str, **env):
    import os

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_import_tacsuite_starts_no_taichi_and_no_torch():
    out = _run("import sys, tacsuite; print('taichi' in sys.modules, 'torch' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False False"


def test_lazy_init_once_and_quiet_stdout():
    out = _run("from tacsuite.sim import backend; print(backend.ensure_init()); "
               "print(backend.ensure_init())", TACSUITE_ARCH="cpu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cpu", "cpu"]


def test_unknown_arch_is_a_clear_error():
    out = _run("from tacsuite.sim import backend; backend.ensure_init()", TACSUITE_ARCH="tpu")
    assert out.returncode != 0 and "TACSUITE_ARCH='tpu'" in out.stderr


def test_unknown_backend_is_a_clear_error(monkeypatch):
    from tacsuite.sim import backend

    monkeypatch.setenv("TACSUITE_BACKEND", "jax")
    with pytest.raises(ValueError, match=r"TACSUITE_BACKEND='jax'.*'taichi', 'quadrants'"):
        backend.requested_backend()
    monkeypatch.setenv("TACSUITE_BACKEND", " Quadrants ")
    assert backend.requested_backend() == "quadrants"
    monkeypatch.delenv("TACSUITE_BACKEND")
    assert backend.requested_backend() == "taichi"


def test_missing_compiler_names_the_extra(monkeypatch):
    from tacsuite.common.validate import MissingExtra
    from tacsuite.sim import backend

    monkeypatch.setitem(sys.modules, "quadrants", None)     # as if not installed
    with pytest.raises(MissingExtra, match=r"pip install 'tacsuite\[quadrants\]'"):
        backend._import("quadrants")


def test_compiler_settings_reach_a_child_under_each_compilers_prefix():
    from tacsuite.sim import backend

    env = backend.compiler_env("quadrants", offline_cache=True, offline_cache_file_path="/c")
    assert env == {"QD_OFFLINE_CACHE": "1", "QD_OFFLINE_CACHE_FILE_PATH": "/c"}
    assert backend.compiler_env("taichi", offline_cache=False) == {"TI_OFFLINE_CACHE": "0"}
    with pytest.raises(ValueError, match="'warp'"):
        backend.compiler_env("warp")


def test_version_and_run_records_name_the_compiler(tmp_path):
    from importlib import metadata

    from tacsuite.common import atomic
    from tacsuite.common.runs import RunDir
    from tacsuite.sim import backend

    for name in backend.BACKENDS:
        out = _run("import sys; from tacsuite.cli import main; sys.exit(main(['--version']))",
                   TACSUITE_BACKEND=name)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[1].startswith(f"simulator compiler: {name} ")
    with RunDir(tmp_path / "run", {"seed": 0}):
        pass
    rec = atomic.read_json(tmp_path / "run" / "config.json")["compiler"]
    assert rec["name"] == backend.backend_name()
    assert rec["version"] == metadata.version(rec["name"])
