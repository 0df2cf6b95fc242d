"""Temporary folders that never leak: one run folder per harness process, marked with its owner.

Everything a run writes to the temporary directory (each world's store, logs and stacks, and the
forkserver's socket folder) lives in `lifecycle-run-<pid>-*`, whose `owner` file records the pid and
start time of the process that made it. Where the temporary directory's path is too long for a Unix
socket (pytest's per-test folders under xdist can be), the socket folder is a second run folder, owned
the same way, in the first short system temporary directory. What torch itself would write there
(torch._dynamo makes its inductor cache folder at import) goes in the run folder too, unless the user
chose a folder for it. The run folder goes when its process exits normally; a run
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

from ..errors import UsageError
from . import proctree
from .reaper import end_marked

PREFIX = "lifecycle-run-"
OWNER_FILE = "owner"
UNOWNED_GRACE_S = 60.0
MAX_SOCKET_FOLDER = 80  # a Unix socket's path is at most 107 bytes; the forkserver adds ~20 to the folder's
INDUCTOR_CACHE_VARIABLE = "TORCHINDUCTOR_CACHE_DIR"
SHORT_TEMP_BASES = ("/tmp", "/var/tmp", "/dev/shm")  # where a socket folder goes when the temporary directory is long

_run_folder: str | None = None
_socket_folder: str | None = None


def run_folder() -> str:
    """This process's run folder, made (after sweeping stale ones) on first use."""
    global _run_folder
    if _run_folder is None:
        sweep_stale()
        _run_folder = _owned_folder(tempfile.gettempdir())
        os.environ.setdefault(INDUCTOR_CACHE_VARIABLE, os.path.join(_run_folder, "torchinductor"))
    elif not os.path.exists(os.path.join(_run_folder, OWNER_FILE)):
        os.makedirs(_run_folder, exist_ok=True)
        _mark_owned(_run_folder)
    _place_multiprocess_files(_run_folder)
    return _run_folder


def _owned_folder(base: str) -> str:
    """A new run folder in `base`, marked with this process and removed when it exits."""
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
    atexit.register(shutil.rmtree, folder, True)
    _mark_owned(folder)
    return folder


def _mark_owned(folder: str) -> None:
    with open(os.path.join(folder, OWNER_FILE), "w") as f:
        f.write(_identity(os.getpid()) or str(os.getpid()))


def world_folder(world_size: int) -> str:
    """A new folder for one world, inside the run folder."""
    return tempfile.mkdtemp(prefix=f"world{world_size}-", dir=run_folder())


def run_folders(pid: int | None = None) -> list[str]:
    """The run folders in the temporary directory and the short ones: every one, or those `pid` made."""
    pattern = f"{PREFIX}{pid}-*" if pid is not None else f"{PREFIX}*"
    bases = dict.fromkeys(os.path.realpath(b) for b in (tempfile.gettempdir(), *SHORT_TEMP_BASES))
    return [folder for base in bases for folder in glob.glob(os.path.join(base, pattern))]


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
    """Put the forkserver's socket folder in the run folder, not in a `pymp-*` folder of its own; where
    the run folder's path is too long for a socket, in a short run folder of its own."""
    import multiprocess.process

    global _socket_folder
    config = multiprocess.process.current_process()._config
    if config.get("tempdir") not in (None, _socket_folder):
        return
    if _socket_folder is None:
        _socket_folder = os.path.join(folder, "mp")
        if len(_socket_folder.encode()) > MAX_SOCKET_FOLDER:
            _socket_folder = os.path.join(_owned_folder(_short_base(folder)), "mp")
    os.makedirs(_socket_folder, exist_ok=True)
    config["tempdir"] = _socket_folder


def _short_base(long_folder: str) -> str:
    """The first writable system temporary directory short enough for the forkserver's socket."""
    below = len(os.path.join("", f"{PREFIX}{os.getpid()}-12345678", "mp").encode()) + 1  # what a run adds to its base
    for base in SHORT_TEMP_BASES:
        if len(base.encode()) + below > MAX_SOCKET_FOLDER:
            continue
        if os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            return base
    raise UsageError(
        f"the temporary directory's path is too long for the forkserver's Unix socket ({long_folder}), and none "
        f"of {', '.join(SHORT_TEMP_BASES)} is writable: set TMPDIR to a folder whose path is at most "
        f"{MAX_SOCKET_FOLDER - below} bytes long"
    )
