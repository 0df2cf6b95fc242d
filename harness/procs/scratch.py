"""Temporary folders that never leak: one run folder per harness process, marked with its owner.

Everything a run writes to the temporary directory (each world's store, logs and stacks, and the
forkserver's socket folder) lives in `lifecycle-run-<pid>-*`, whose `owner` file records the pid and
start time of the process that made it. The run folder goes when its process exits normally; a run
killed by SIGKILL leaves it behind, so the first run folder a process makes also sweeps the stale
ones (as pytest does with its temporary folders): a folder whose owner is gone loses the processes
still marked with its worlds' tokens (`harness.procs.reaper.end_marked`), then the folder itself.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import tempfile
import time

from . import proctree
from .reaper import end_marked

PREFIX = "lifecycle-run-"
OWNER_FILE = "owner"
UNOWNED_GRACE_S = 60.0
MAX_SOCKET_FOLDER = 80  # a Unix socket's path is at most 107 bytes; the forkserver adds ~20 to the folder's

_run_folder: str | None = None


def run_folder() -> str:
    """This process's run folder, made (after sweeping stale ones) on first use."""
    global _run_folder
    if _run_folder is None:
        sweep_stale()
        _run_folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        atexit.register(shutil.rmtree, _run_folder, True)
    owner = os.path.join(_run_folder, OWNER_FILE)
    if not os.path.exists(owner):
        os.makedirs(_run_folder, exist_ok=True)
        with open(owner, "w") as f:
            f.write(_identity(os.getpid()) or str(os.getpid()))
        _place_multiprocess_files(_run_folder)
    return _run_folder


def world_folder(world_size: int) -> str:
    """A new folder for one world, inside the run folder."""
    return tempfile.mkdtemp(prefix=f"world{world_size}-", dir=run_folder())


def run_folders(pid: int | None = None) -> list[str]:
    """The run folders in the temporary directory: every one, or those `pid` made."""
    pattern = f"{PREFIX}{pid}-*" if pid is not None else f"{PREFIX}*"
    return glob.glob(os.path.join(tempfile.gettempdir(), pattern))


def folder_bytes(folder: str) -> int:
    """Bytes the files below `folder` hold on disk now."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
    return total


def sweep_stale() -> None:
    """Remove the run folders whose owning process is gone, ending what their worlds left running."""
    for folder in run_folders():
        if not _stale(folder):
            continue
        for world in glob.glob(os.path.join(folder, "world*")):
            end_marked(world)
        shutil.rmtree(folder, ignore_errors=True)


def _stale(folder: str) -> bool:
    try:
        with open(os.path.join(folder, OWNER_FILE)) as f:
            recorded = f.read().strip()
    except FileNotFoundError:
        # Made but not yet marked by a starting process, or marked never: give it time first.
        with contextlib.suppress(OSError):
            return time.time() - os.path.getmtime(folder) > UNOWNED_GRACE_S
        return False
    except OSError:
        return False
    pid = int(recorded.split()[0]) if recorded.split() and recorded.split()[0].isdigit() else -1
    return pid != os.getpid() and _identity(pid) != recorded


def _identity(pid: int) -> str | None:
    """`pid` and its start time, which together name one process even after the pid is reused."""
    started = proctree.start_time(pid)
    return None if started is None else f"{pid} {started}"


def _place_multiprocess_files(folder: str) -> None:
    """Put the forkserver's socket folder in the run folder, not in a `pymp-*` folder of its own,
    unless the temporary directory's path is too long for a socket there."""
    import multiprocess.process

    config = multiprocess.process.current_process()._config
    mp_folder = os.path.join(folder, "mp")
    if config.get("tempdir") in (None, mp_folder) and len(mp_folder.encode()) <= MAX_SOCKET_FOLDER:
        os.makedirs(mp_folder, exist_ok=True)
        config["tempdir"] = mp_folder
