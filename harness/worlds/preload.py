"""What the forkserver preloads, and its early start, so its torch import overlaps the parent's.

The forkserver imports torch once for every rank of the run; the parent imports torch as well (the
clauses' checks read tensors). Started before the parent's own import, the server's import runs on
the other core meanwhile, so a run pays for one torch import instead of two in a row. This module
imports neither torch nor anything that does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import time

import multiprocess
import multiprocess.forkserver
import multiprocess.resource_tracker

from ..locations import REFERENCE_PACKAGE, module
from ..procs.scratch import run_folder

# The reference's adapter too: the suite's own code, imported by every rank that runs the reference, with
# no side effect at import. Other adapters are imported on the ranks, where a slow or failing import is reported.
PRELOAD = [
    "torch",
    "torch.distributed",
    "dill",
    *(module(name) for name in ("rankside.rank", "rankside.forkserver_init")),
    f"{REFERENCE_PACKAGE}.adapter",
]
# The host network's module imports torch._dynamo (DDP's constructor needs it): two seconds more than torch
# itself. A run that trains no model (profiles core and strict, a replay without one) leaves it out.
MODEL_PRELOAD = [module("rankside.model_host")]

_models = True


def forkserver_preload() -> list[str]:
    """What this process's forkserver loads: `PRELOAD`, and `MODEL_PRELOAD` unless the run said it trains no model."""
    return PRELOAD + (MODEL_PRELOAD if _models else [])


def start_forkserver(models: bool = True) -> None:
    """Start this process's forkserver now (it loads `forkserver_preload()` in the background); a no-op if it
    runs. With `models` false the server skips the host network's module: a rank that trains one all the
    same imports it itself, once per process."""
    global _models
    run_folder()  # the server's socket goes in the run folder, which must exist before the server
    if multiprocess.forkserver._forkserver._forkserver_pid is None:
        _models = models
    multiprocess.get_context("forkserver").set_forkserver_preload(forkserver_preload())
    multiprocess.forkserver.ensure_running()


def stop_forkserver(timeout_s: float = 5.0) -> None:
    """End this process's forkserver and resource tracker before the program exits: left to notice the
    exit themselves, they outlive the command by a second or two, and a job that checks for leftover
    processes as soon as the command returns would find them. Each gets `timeout_s`, then SIGKILL.

    The forkserver gets SIGTERM as well as the end of its lifeline: it holds nothing to clean up once its
    ranks are gone (its socket is in the run folder, which goes with this process), and an exit of its own tears
    down the torch it preloaded, about 0.6 s on a quiet 2-core machine. The resource tracker exits on
    its lifeline's end alone: it unlinks what ranks left registered, and it never imports torch."""
    server = multiprocess.forkserver._forkserver
    pid, alive_fd = getattr(server, "_forkserver_pid", None), getattr(server, "_forkserver_alive_fd", None)
    _end_helper(pid, alive_fd, timeout_s, signal.SIGTERM)
    server._forkserver_pid = server._forkserver_alive_fd = None
    tracker = multiprocess.resource_tracker._resource_tracker
    _end_helper(getattr(tracker, "_pid", None), getattr(tracker, "_fd", None), timeout_s)
    tracker._pid = tracker._fd = None


def _end_helper(pid: int | None, alive_fd: int | None, timeout_s: float, end: int | None = None) -> None:
    """Close the helper's lifeline (it exits on EOF) and send it `end` if given; wait for it within
    `timeout_s`, else kill it."""
    if pid is None:
        return
    if alive_fd is not None:
        os.close(alive_fd)
    if end is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, end)
    deadline = time.monotonic() + timeout_s
    try:
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(0.02)
    except ChildProcessError:  # already reaped
        return


def findable(impl: str) -> bool:
    """Whether the module of the adapter `impl` names can be found, without importing it: a run whose
    adapter cannot load stops before the forkserver would spend a torch import on nothing. A name not of the
    form MODULE:ATTR names no adapter, whatever its module."""
    module_name, colon, attr = impl.partition(":")
    if not colon or not attr:
        return False
    try:
        return importlib.util.find_spec(module_name) is not None
    except Exception:  # a parent package that fails to import: the adapter's loading reports it, in one line
        return False
