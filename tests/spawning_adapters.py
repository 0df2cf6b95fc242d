"""Adapters whose `advance` starts processes that would outlive the run unless the harness ends them.

Each started process writes its pid to a file in `$LIFECYCLE_TEST_SPAWN_DIR` before it waits forever;
`advance` returns only once those files exist, so a test knows every pid it must see end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from reference_impl.adapter import Adapter

SPAWN_DIR_VARIABLE = "LIFECYCLE_TEST_SPAWN_DIR"
STARTED_WITHIN_S = 60.0

# A process that records its pid, ignores SIGTERM and SIGINT, and sleeps; with an argument N it first
# starts N more of itself, which start none.
SLEEPER = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
for _ in range(int(sys.argv[1])):
    subprocess.Popen([sys.executable, "-c", sys.argv[2], "0", sys.argv[2]], start_new_session=True)
with open(os.path.join(os.environ["LIFECYCLE_TEST_SPAWN_DIR"], str(os.getpid())), "w"):
    pass
while True:
    time.sleep(60)
"""


def spawn_dir() -> str:
    """This rank's own folder under the test's, so ranks do not count each other's processes."""
    folder = os.path.join(os.environ[SPAWN_DIR_VARIABLE], f"rank-{os.getpid()}")
    os.makedirs(folder, exist_ok=True)
    return folder


def recorded() -> int:
    return len(os.listdir(spawn_dir()))


def await_recorded(count: int) -> None:
    end = time.monotonic() + STARTED_WITHIN_S
    while recorded() < count and time.monotonic() < end:
        time.sleep(0.02)


def start_sleeper(children: int) -> None:
    env = {**os.environ, SPAWN_DIR_VARIABLE: spawn_dir()}
    subprocess.Popen([sys.executable, "-c", SLEEPER, str(children), SLEEPER], env=env)


def start_daemon() -> None:
    """The classic double fork: the middle process starts a new session, forks and exits at once."""
    folder = spawn_dir()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            with open(os.path.join(folder, str(os.getpid())), "w"):
                pass
            while True:
                time.sleep(60)
        os._exit(0)
    os.waitpid(pid, 0)


class IgnoresTermAdapter(Adapter):
    """`advance` starts a child that ignores SIGTERM and never exits."""

    def advance(self, slot, target):
        before = recorded()
        start_sleeper(0)
        await_recorded(before + 1)
        return super().advance(slot, target)


class DaemonAdapter(Adapter):
    """`advance` starts a double-forked daemon in a session of its own."""

    def advance(self, slot, target):
        before = recorded()
        start_daemon()
        await_recorded(before + 1)
        return super().advance(slot, target)


class TreeAdapter(Adapter):
    """`advance` starts a child that starts two children of its own, each in a new session."""

    def advance(self, slot, target):
        before = recorded()
        start_sleeper(2)
        await_recorded(before + 3)
        return super().advance(slot, target)
