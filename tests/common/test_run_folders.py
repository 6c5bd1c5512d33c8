"""A run folder holds one run: refusal, --overwrite, the pid lock (live and stale), umask."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from tacsuite.cli import main
from tacsuite.common import atomic
from tacsuite.common.runs import LOCK_NAME, RunDir, RunFolderError, check_out

HOLDER = textwrap.dedent("""
    import sys, time
    from tacsuite.common.runs import RunDir
    run = RunDir(sys.argv[1], {"seed": 1}, command="holder")
    print("ready", flush=True)
    time.sleep(60)
""")


def test_rerun_is_refused_naming_the_folder_and_the_options(tmp_path):
    with RunDir(tmp_path / "r", {"seed": 1}) as run:
        run.log(step=1)
        run.write_result({"seed": 1})
    with pytest.raises(RunFolderError) as info:
        RunDir(tmp_path / "r", {"seed": 2}, resumable=True)
    msg = str(info.value)
    assert str(tmp_path / "r") in msg and "--overwrite" in msg and "--resume" in msg
    with pytest.raises(RunFolderError) as info:
        RunDir(tmp_path / "r", {"seed": 2})
    assert "--overwrite" in str(info.value) and "--resume" not in str(info.value)
    # the refused attempt changed nothing
    assert json.loads((tmp_path / "r" / "config.json").read_text())["seed"] == 1


def test_overwrite_starts_clean_so_metrics_belong_to_one_run(tmp_path):
    with RunDir(tmp_path / "r", {"seed": 1}) as run:
        for i in range(3):
            run.log(step=i)
        run.save_array("returns", [1.0])
        (run.path / "sub").mkdir()
    with RunDir(tmp_path / "r", {"seed": 2}, overwrite=True) as run:
        run.log(step=0)
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["config.json", "metrics.jsonl"]
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 1
    assert json.loads((tmp_path / "r" / "config.json").read_text())["seed"] == 2


def test_a_live_owner_blocks_and_a_killed_owners_lock_is_taken_over(tmp_path):
    out = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert json.loads((out / LOCK_NAME).read_text())["pid"] == proc.pid
        with pytest.raises(RunFolderError, match=f"in use by process {proc.pid}"):
            RunDir(out, {"seed": 2}, overwrite=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    # the dead owner's pid is still in the lock file; the lock itself went with it
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == proc.pid
    with RunDir(out, {"seed": 2}, overwrite=True) as run:
        assert json.loads((out / LOCK_NAME).read_text())["pid"] == os.getpid()
        assert run.lock.took_over == proc.pid
    assert not (out / LOCK_NAME).exists()


def test_a_lock_file_left_with_a_dead_pid_is_stale(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / LOCK_NAME).write_text(json.dumps({"pid": int(dead)}))
    with RunDir(tmp_path / "r", {"seed": 0}) as run:
        assert run.lock.took_over == int(dead)


def test_two_writers_in_one_process_also_exclude_each_other(tmp_path):
    with RunDir(tmp_path / "r", {"seed": 0}):
        with pytest.raises(RunFolderError, match="in use"):
            RunDir(tmp_path / "r", {"seed": 0}, overwrite=True)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_files_follow_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        path = atomic.write_json(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_out_is_checked_before_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="not a folder"):
        check_out(tmp_path / "file")
    with pytest.raises(RunFolderError, match="is a file"):
        check_out(tmp_path / "file" / "below")
    with pytest.raises(RunFolderError, match="empty"):
        check_out("")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        with pytest.raises(RunFolderError, match="not writable"):
            check_out(locked / "run")
        locked.chmod(0o700)


def test_cli_rerun_refused_then_overwritten(tmp_path, capsys):
    out = str(tmp_path / "l")
    argv = ["train", "lsvi-ucb", "--episodes", "3", "--out", out]
    assert main(argv) == 0
    first = (tmp_path / "l" / "metrics.jsonl").read_text()
    line = capsys.readouterr().out.strip()
    assert line.startswith("lsvi-ucb: mean return ") and line.endswith(f"-> {out}")
    assert main(argv + ["--seed", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tacsuite: error: run folder") and "--overwrite" in err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "l" / "config.json").read_text())["seed"] == 0
    assert main(argv + ["--seed", "2", "--overwrite", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seed"] == 2
    assert json.loads((tmp_path / "l" / "config.json").read_text())["seed"] == 2
    assert len((tmp_path / "l" / "metrics.jsonl").read_text().splitlines()) == \
        len(first.splitlines())
