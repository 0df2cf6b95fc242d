"""No leaked temporary folders: a run folder whose owner is gone is removed by a later run, with the
processes its worlds left marked; folders of live owners, and young unmarked ones, are kept."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.procs import scratch
from harness.procs.reaper import TOKEN_VARIABLE
from tests.harness_util import alive, proc, wait_until

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from harness import Op, Scenario, WorldPool
from harness.procs.scratch import run_folder
pool = WorldPool()
world = pool.world_for(Scenario("idle", 2, ["a"], [Op("germinate", "a")]))
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump({"folder": run_folder(), "ranks": world.pids()}, f)
import os
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """This test's own temporary directory, so only its folders are swept."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def stale_folder(tmp: Path, pid: int = 999_999_999, owner: str | None = None, name: str = "abc") -> Path:
    folder = tmp / f"{scratch.PREFIX}{pid}-{name}"
    (folder / "world2-xyz").mkdir(parents=True)
    (folder / scratch.OWNER_FILE).write_text(owner or f"{pid} 1")
    return folder


def test_run_killed_by_sigkill_leaves_a_folder_a_later_run_removes(tmp_path):
    info = tmp_path / "info.json"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "out.txt", "w") as out:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(info)], env=env, stdout=out, stderr=out)
        try:
            assert wait_until(lambda: info.exists() or child.poll() is not None, 120), (
                tmp_path / "out.txt"
            ).read_text()
            started = json.loads(info.read_text())
            ranks = [proc(pid) for pid in started["ranks"]]
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(30)
    assert Path(started["folder"]).is_dir()
    assert wait_until(lambda: not any(alive(p) for p in ranks), 10)
    sweep = "from harness.procs.scratch import run_folder; print(run_folder())"
    later = subprocess.run([sys.executable, "-c", sweep], env=env, capture_output=True, text=True, timeout=60)
    assert later.returncode == 0, later.stderr
    assert not Path(started["folder"]).exists()
    assert not Path(later.stdout.strip()).exists(), "the later run's own folder is removed when it exits"


def test_sweep_ends_processes_marked_with_a_stale_world(own_tmp):
    folder = stale_folder(own_tmp)
    env = {**os.environ, TOKEN_VARIABLE: str(folder / "world2-xyz")}
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env)
    try:
        watched = proc(leftover.pid)
        assert wait_until(lambda: Path(f"/proc/{leftover.pid}/environ").read_bytes().count(b"world2-xyz"), 10)
        scratch.sweep_stale()
        assert not folder.exists()
        assert wait_until(lambda: leftover.poll() is not None, 10)
        assert not alive(watched)
    finally:
        if leftover.poll() is None:
            leftover.kill()
        leftover.wait(10)


def test_sweep_keeps_folders_of_live_owners_and_young_unmarked_ones(own_tmp):
    live = stale_folder(own_tmp, os.getppid(), owner=scratch._identity(os.getppid()))
    young = own_tmp / f"{scratch.PREFIX}123-young"
    young.mkdir()
    old = own_tmp / f"{scratch.PREFIX}124-old"
    old.mkdir()
    past = time.time() - 2 * scratch.UNOWNED_GRACE_S
    os.utime(old, (past, past))
    recycled = stale_folder(own_tmp, os.getppid(), name="recycled")  # the same pid, another start time
    scratch.sweep_stale()
    assert live.exists() and young.exists()
    assert not old.exists() and not recycled.exists()


FORKSERVER_IN_A_LONG_TMPDIR = """
import multiprocess.process
from harness.worlds.preload import start_forkserver, stop_forkserver
start_forkserver()
print(multiprocess.process.current_process()._config["tempdir"])
stop_forkserver()
"""


def test_a_temporary_directory_too_long_for_a_socket_puts_the_forkserver_in_a_short_run_folder(tmp_path):
    long_tmp = tmp_path / ("t" * (scratch.MAX_SOCKET_FOLDER + 8))
    long_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(long_tmp), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", FORKSERVER_IN_A_LONG_TMPDIR], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    socket_folder = Path(run.stdout.strip())
    assert len(str(socket_folder)) <= scratch.MAX_SOCKET_FOLDER
    assert socket_folder.parent.name.startswith(scratch.PREFIX) and str(socket_folder.parent.parent) != str(long_tmp)
    assert not socket_folder.parent.exists(), "the short run folder goes when its process exits"


def test_no_short_temporary_directory_is_a_one_line_error(monkeypatch, tmp_path):
    long_base = str(tmp_path / ("t" * scratch.MAX_SOCKET_FOLDER))
    monkeypatch.setattr(scratch, "SHORT_TEMP_BASES", (long_base,))
    with pytest.raises(UsageError, match="set TMPDIR to a folder"):
        scratch._short_base(long_base)


def test_the_length_the_error_names_is_the_longest_that_works(monkeypatch):
    """The error's advice is exact: a folder of the length it names takes the socket, one byte longer not."""
    monkeypatch.setattr(scratch, "SHORT_TEMP_BASES", ("/nonexistent",))
    with pytest.raises(UsageError) as refused:
        scratch._short_base("/long")
    named = int(re.search(r"at most (\d+) bytes", str(refused.value)).group(1))
    parent = tempfile.mkdtemp(dir="/tmp")
    try:
        fits = os.path.join(parent, "f" * (named - len(parent) - 1))
        os.mkdir(fits)
        assert len(fits.encode()) == named
        monkeypatch.setattr(scratch, "SHORT_TEMP_BASES", (fits + "x", fits))
        os.mkdir(fits + "x")
        assert scratch._short_base("/long") == fits
        folder = os.path.join(fits, f"{scratch.PREFIX}{os.getpid()}-12345678", "mp")
        assert len(folder.encode()) == scratch.MAX_SOCKET_FOLDER
    finally:
        shutil.rmtree(parent)


def test_what_torch_writes_to_the_temporary_directory_goes_in_the_run_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != scratch.INDUCTOR_CACHE_VARIABLE}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=str(ROOT))
    code = "from harness.procs.scratch import run_folder; run_folder(); import torch._dynamo; print(run_folder())"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert not list(tmp_path.iterdir()), "torch's inductor cache folder belongs in the run folder, gone at exit"
    chosen = tmp_path / "mine"
    env[scratch.INDUCTOR_CACHE_VARIABLE] = str(chosen)
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine"], "a folder the user chose is kept"
