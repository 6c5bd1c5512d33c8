import subprocess
import sys


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
