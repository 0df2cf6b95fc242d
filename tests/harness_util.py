"""Helpers shared by the harness tests: process liveness, bounded polling, small scenarios.

A process counts as alive only while it exists, its start time is the one recorded when it was first
seen (so a recycled pid is not mistaken for it), and it is not a zombie: an orphaned rank is
reparented to a PID 1 that, in this container, never reaps it. psutil reads the process table.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psutil

from harness import Op, Scenario, World, WorldPool
from harness.records.messages import CallRecord
from harness.records.report import ScenarioResult

REFERENCE = "reference_impl.adapter:Adapter"
GONE_TIMEOUT_S = 10.0
# `python -m harness` with SIGINT's default disposition set explicitly: a process started with SIGINT
# ignored (a test run in the background from a non-interactive shell) passes that on to its children.
WITH_DEFAULT_SIGINT = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " sys.argv[0] = 'harness'; runpy.run_module('harness', run_name='__main__', alter_sys=True)"
)


def harness_command(*args: str) -> list[str]:
    """The command line of `python -m harness ARGS` in a process that reacts to SIGINT."""
    return [sys.executable, "-c", WITH_DEFAULT_SIGINT, *args]


@dataclass(frozen=True)
class Proc:
    pid: int
    start: float | None

    def __str__(self) -> str:
        return f"pid {self.pid} ({_cmdline(self.pid)!r})"


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())[:120]
    except psutil.Error:
        return "<gone>"


def proc(pid: int) -> Proc:
    try:
        return Proc(pid, psutil.Process(pid).create_time())
    except psutil.Error:
        return Proc(pid, None)


def procs(pids: Iterable[int]) -> list[Proc]:
    return [proc(pid) for pid in pids]


def alive(p: Proc) -> bool:
    try:
        process = psutil.Process(p.pid)
        started, status = process.create_time(), process.status()
    except psutil.Error:
        return False
    return status not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD) and (p.start is None or started == p.start)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def parent(pid: int) -> int:
    return psutil.Process(pid).ppid()


def marked(mark: str) -> list[int]:
    """Live processes whose environment carries `mark`: a run's whole process tree, reparented or not."""
    found = []
    for process in psutil.process_iter():
        try:
            if mark in "\0".join(f"{k}={v}" for k, v in process.environ().items()) and alive(proc(process.pid)):
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


def wait_until(predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy or `timeout_s` passes; its last value."""
    end = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval_s)


def survivors(watched: Iterable[Proc], timeout_s: float = GONE_TIMEOUT_S) -> list[Proc]:
    """The processes of `watched` still alive after waiting up to `timeout_s` for all to end."""
    watched = list(watched)
    wait_until(lambda: not any(alive(p) for p in watched), timeout_s)
    return [p for p in watched if alive(p)]


def assert_gone(watched: Iterable[Proc], timeout_s: float = GONE_TIMEOUT_S) -> None:
    left = survivors(watched, timeout_s)
    assert not left, "processes still alive: " + ", ".join(str(p) for p in left)


def world_procs(pool: WorldPool, scenario: Scenario) -> tuple[World, list[Proc]]:
    """The world `pool` will run `scenario` on (started if needed), and its rank processes."""
    world = pool.world_for(scenario)
    watched = procs(world.pids())
    assert all(alive(p) for p in watched)
    return world, watched


def run_watched(
    pool: WorldPool, impl: str, scenario: Scenario, deadline_s: float = 20.0
) -> tuple[ScenarioResult, World, list[Proc]]:
    world, watched = world_procs(pool, scenario)
    return pool.run(impl, scenario, deadline_s=deadline_s), world, watched


def ranks_table(result: ScenarioResult) -> str:
    return "\n" + result.render()


def simple(world_size: int, name: str = "simple", advances: int = 1, **advance: Any) -> Scenario:
    ops = [Op("germinate", "a")] + [Op("advance", "a", **advance) for _ in range(advances)]
    return Scenario(name, world_size, ["a"], ops)


def comparable(records: list[CallRecord]) -> list[dict]:
    """Call records as data, without their timings: what two runs of one scenario must share."""
    return [{k: v for k, v in dataclasses.asdict(r).items() if k != "elapsed_s"} for r in records]
