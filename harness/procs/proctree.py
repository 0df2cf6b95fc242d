"""The one reader of /proc (Linux) at run time: the process tree, a process's state, start time,
environment and memory. The harness needs these without privileges and without third-party
packages, to end what a run started and to measure it."""

from __future__ import annotations

import os


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[1])


def state(pid: int) -> str | None:
    """The process's state letter (R, S, D, Z, ...), or None when it has no /proc entry."""
    fields = _stat_fields(pid)
    return None if fields is None else fields[0]


def start_time(pid: int) -> str | None:
    """When `pid` started, in clock ticks since boot: with the pid, it names one process even after
    the pid is reused. None for a process that is gone or a zombie."""
    fields = _stat_fields(pid)
    return None if fields is None or fields[0] in ("Z", "X") else fields[19]


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return [p for p in pids() if parent(p) == pid]


def descendants(pid: int) -> list[int]:
    """Every process below `pid` in the process tree, children before grandchildren."""
    below: dict[int, list[int]] = {}
    for child in pids():
        above = parent(child)
        if above is not None:
            below.setdefault(above, []).append(child)
    found, todo = [], list(below.get(pid, []))
    while todo:
        current = todo.pop(0)
        found.append(current)
        todo += below.get(current, [])
    return found


def with_environment(entry: bytes) -> list[int]:
    """Processes (other than this one) whose environment holds `entry` (`b"NAME=value\\0"`)."""
    found = []
    for pid in pids():
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if entry in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def resident_bytes(pid: int) -> int:
    """`pid`'s resident memory, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
