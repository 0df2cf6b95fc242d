"""Nothing a rank starts outlives its world: every process below a rank ends with the rank.

Linux, no privileges needed. The mechanism has three layers, one per way a rank can end:

- A rank ends by itself (told to stop, SIGTERM, or its lifeline closed because the harness ended,
  SIGKILL included). Each rank is a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so a process
  below it whose parent exits (a double-forked daemon, `setsid` or not) is reparented to the rank
  instead of to init and stays in the rank's subtree. Before exiting, the rank kills that whole
  subtree (`end_subtree`): SIGKILL, which no child can ignore, repeated until nothing is left, since
  a process may fork while its siblings are being killed.
- The harness ends a rank (a hang, a broken world): `World.close` kills the rank's subtree before the
  rank, while the tree can still be read.
- A rank is killed outright (SIGKILL, the OOM killer) with processes below it. Those are reparented
  to the next subreaper up: the forkserver, which `harness.rankside.forkserver_init` makes one. Its children
  that are not processes this harness started are such orphans, and `end_forkserver_orphans` kills
  them with their subtrees when a world closes.

Every process a rank execs also carries the world's token in its environment (`TOKEN_VARIABLE`), so
a later run can still find and end what a run killed with SIGKILL, together with its ranks, left
behind (`end_marked`, used by `harness.procs.scratch`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time

from . import proctree

TOKEN_VARIABLE = "LIFECYCLE_WORLD_TOKEN"
PR_SET_CHILD_SUBREAPER = 36
END_TIMEOUT_S = 2.0
POLL_S = 0.01


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants; False where the kernel does not offer it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def mark_environment(token: str) -> None:
    """Every process this one execs from now on carries `token`, found later by `marked`."""
    os.environ[TOKEN_VARIABLE] = token


def living(pids: list[int]) -> list[int]:
    """The pids of `pids` that exist and are not zombies."""
    return [pid for pid in pids if proctree.state(pid) not in (None, "Z", "X", "x")]


def end_subtree(pid: int | None = None, timeout_s: float = END_TIMEOUT_S) -> None:
    """SIGKILL every process below `pid` (this process by default) until none is left alive.

    Called in the process itself, it also reaps what it adopted, so nothing stays a zombie."""
    pid = os.getpid() if pid is None else pid
    end = time.monotonic() + timeout_s
    while True:
        left = living(proctree.descendants(pid))
        for child in left:
            _kill(child)
        if pid == os.getpid():
            _reap_children()
        if not left or time.monotonic() >= end:
            return
        time.sleep(POLL_S)


def end_processes(pids: list[int], timeout_s: float = END_TIMEOUT_S) -> None:
    """SIGKILL `pids` and everything below them, re-reading the trees until none is alive."""
    end = time.monotonic() + timeout_s
    while True:
        left = living(pids + [d for pid in pids for d in proctree.descendants(pid)])
        for pid in left:
            _kill(pid)
        if not left or time.monotonic() >= end:
            return
        time.sleep(POLL_S)


def end_forkserver_orphans(forkserver_pid: int | None, started: set[int]) -> None:
    """End the forkserver's children that are not among the processes this harness `started`.

    The forkserver is a subreaper, so those are the orphans of ranks that were killed outright."""
    if forkserver_pid is None or not living([forkserver_pid]):
        return
    orphans = [pid for pid in proctree.children(forkserver_pid) if pid not in started]
    if orphans:
        end_processes(orphans)


def marked(token: str) -> list[int]:
    """Live processes whose environment carries this world's `token`."""
    return living(proctree.with_environment(f"{TOKEN_VARIABLE}={token}\0".encode()))


def end_marked(token: str, timeout_s: float = END_TIMEOUT_S) -> None:
    """End every process carrying `token`, and what is below them."""
    pids = marked(token)
    if pids:
        end_processes(pids, timeout_s)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _reap_children() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
