"""No orphans: however the process that started a world ends, its ranks, forkserver and resource
tracker end too. Each test runs the harness in a child Python process (or a child pytest), ends that
child the way the case names, and polls /proc until every process it started is gone.

The child writes what it started to an info file; a gate closure writes a marker file from inside
rank 1 once the scenario is running there, so "while a scenario is running" is observed, not timed.
Child output goes to files, never pipes: a forkserver inherits the child's stdout, and a pipe held
by a leftover process would block the reader instead of failing the test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.harness_util import Proc, alive, assert_gone, parent, proc, wait_until

CHECKOUT = str(Path(__file__).resolve().parent.parent)  # the children import this tree, whatever is installed

pytestmark = pytest.mark.timeout(180)

START_S = 90.0  # a world's start on a loaded 2-core machine, generously

HELPERS = '''
import json
import os
import signal
import sys
import threading
import time

import multiprocess.forkserver
import multiprocess.resource_tracker

from harness import Op, Scenario, WorldPool

# Ctrl-C must reach this child however the test run was started (SIGINT ignored in the background).
signal.signal(signal.SIGINT, signal.default_int_handler)

REFERENCE = "reference_impl.adapter:Adapter"


def write_info(path, world):
    info = {
        "parent": os.getpid(),
        "ranks": world.pids(),
        "forkserver": multiprocess.forkserver._forkserver._forkserver_pid,
        "resource_tracker": multiprocess.resource_tracker._resource_tracker._pid,
    }
    with open(path + ".tmp", "w") as f:
        json.dump(info, f)
    os.replace(path + ".tmp", path)


def await_go(info):
    """Stay up until the test has seen the processes (their pids and start times)."""
    end = time.monotonic() + 120
    while not os.path.exists(info + ".go") and time.monotonic() < end:
        time.sleep(0.01)


def make_gate(marker):
    """Rank 1 marks that the scenario is running, then sleeps inside its gate; rank 0 passes."""

    def gate(query):
        if query.rank == 1:
            with open(marker + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.replace(marker + ".tmp", marker)
            return {"fault": "sleep", "seconds": 300}
        return True

    return gate


def hanging(marker):
    return Scenario("hang", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=make_gate(marker))
'''

CHILD = (
    HELPERS
    + """

THRESHOLD = 0.3


def decide(query):
    return SCORES[query.rank] > THRESHOLD


SCORES = [0.9, 0.1]


def main(mode, start_method, info, marker):
    if mode == "exception":
        pool = WorldPool(start_method=start_method)
        write_info(info, pool.world_for(hanging(marker)))
        await_go(info)
        raise RuntimeError("the script fails with its world still open")
    if mode in ("normal-end", "main-closure"):
        pool = WorldPool(start_method=start_method)
        gate = (lambda q: decide(q) and os.getpid() > 0) if mode == "main-closure" else None
        scenario = Scenario("fine", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=gate)
        write_info(info, pool.world_for(scenario))
        await_go(info)
        result = pool.run(REFERENCE, scenario)
        print(result.render())
        local = [o.records[1].local[0]["passed"] for o in result.outcomes if len(o.records) > 1]
        print("local decisions:", local)
        if not result.ok or (mode == "main-closure" and local != [True, False]):
            sys.exit(3)
        return  # no close: the harness's atexit hook and the lifelines end the ranks
    if mode == "os-exit":
        def exit_when_running():
            await_go(info)
            while not os.path.exists(marker):
                time.sleep(0.01)
            os._exit(1)  # what pytest-timeout's thread method does

        threading.Thread(target=exit_when_running, daemon=True).start()
    with WorldPool(start_method=start_method) as pool:
        scenario = hanging(marker)
        write_info(info, pool.world_for(scenario))
        if mode == "idle":
            time.sleep(600)
        pool.run(REFERENCE, scenario, deadline_s=300)


if __name__ == "__main__":
    main(*sys.argv[1:])
"""
)

PYTEST_CHILD = (
    HELPERS
    + '''

import pytest


@pytest.fixture
def started(world_pool):
    """The world starts outside the timed function: only the scenario races pytest-timeout."""
    scenario = hanging(os.environ["HANG_MARKER"])
    write_info(os.environ["HANG_INFO"], world_pool.world_for(scenario))
    await_go(os.environ["HANG_INFO"])
    return world_pool, scenario


@pytest.mark.timeout(3, method="thread", func_only=True)
def test_hangs_past_pytest_timeout(started):
    pool, scenario = started
    pool.run(REFERENCE, scenario, deadline_s=300)  # a harness deadline far above the 3 s timeout
'''
)


def checkout_first(pythonpath: str) -> str:
    """`pythonpath` with this checkout in front: the children import the tree under test, and still find
    whatever the caller's path held (a vendored dependency, say)."""
    return os.pathsep.join([CHECKOUT, *filter(None, pythonpath.split(os.pathsep))])


class Child:
    def __init__(self, tmp_path: Path, argv: list[str], new_session: bool = False, env: dict | None = None):
        self.tmp_path = tmp_path
        self.info_path = tmp_path / "info.json"
        self.marker = tmp_path / "running"
        self.out = open(tmp_path / "out.txt", "w")  # noqa: SIM115 - closed in finish()
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": checkout_first(os.environ.get("PYTHONPATH", "")), **(env or {})},
            start_new_session=new_session,
        )
        self.watched: list[Proc] = []
        self.info: dict = {}

    def output(self) -> str:
        self.out.flush()
        return (self.tmp_path / "out.txt").read_text(errors="replace")

    def await_info(self) -> list[Proc]:
        """The processes the child started: its ranks, and its forkserver and resource tracker."""
        ready = wait_until(lambda: self.info_path.exists() or self.process.poll() is not None, START_S)
        assert ready and self.info_path.exists(), f"the child wrote no world info:\n{self.output()}"
        self.info = json.loads(self.info_path.read_text())
        pids = list(self.info["ranks"])
        for helper in ("forkserver", "resource_tracker"):
            if self.info[helper]:
                pids.append(self.info[helper])
        self.watched = [proc(pid) for pid in pids]
        assert len(self.info["ranks"]) == 2
        assert all(alive(p) for p in self.watched), f"{self.watched}\n{self.output()}"
        return self.watched

    def await_running(self) -> None:
        ready = wait_until(lambda: self.marker.exists() or self.process.poll() is not None, START_S)
        assert ready and self.marker.exists(), f"the scenario never started in rank 1:\n{self.output()}"
        assert int(self.marker.read_text() or 0) == self.info["ranks"][1]

    def go(self) -> None:
        self.info_path.with_name(self.info_path.name + ".go").touch()

    def wait(self, timeout_s: float = 60.0) -> int:
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the child did not end within {timeout_s}s:\n{self.output()}")

    def finish(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.out.close()
        # Whatever the test asserted, leave nothing of the child behind for the tests after it.
        for p in self.watched:
            if alive(p):
                os.kill(p.pid, signal.SIGKILL)


@pytest.fixture
def child(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    started: list[Child] = []

    def start(mode: str, start_method: str = "forkserver", new_session: bool = False) -> Child:
        argv = [sys.executable, str(script), mode, start_method, str(tmp_path / "info.json")]
        c = Child(tmp_path, [*argv, str(tmp_path / "running")], new_session=new_session)
        started.append(c)
        return c

    yield start
    for c in started:
        c.finish()


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
@pytest.mark.parametrize("when", ["idle", "running"])
def test_parent_sigkilled(child, start_method, when):
    c = child(when, start_method)
    watched = c.await_info()
    if start_method == "forkserver":
        assert c.info["forkserver"]
        assert all(parent(pid) == c.info["forkserver"] for pid in c.info["ranks"])
    else:
        assert all(parent(pid) == c.info["parent"] for pid in c.info["ranks"])
    if when == "running":
        c.await_running()
    c.process.send_signal(signal.SIGKILL)
    assert c.wait() == -signal.SIGKILL
    assert_gone(watched)


def test_parent_os_exit_while_a_scenario_runs(child):
    c = child("os-exit")
    watched = c.await_info()
    c.go()
    assert c.wait() == 1
    assert c.marker.exists()
    assert_gone(watched)


@pytest.mark.parametrize("target", ["parent", "process-group"])
def test_ctrl_c_while_a_scenario_runs(child, target):
    c = child("running", new_session=True)
    watched = c.await_info()
    c.await_running()
    if target == "parent":
        c.process.send_signal(signal.SIGINT)
    else:  # a terminal's Ctrl-C: the whole foreground process group gets SIGINT
        os.killpg(c.process.pid, signal.SIGINT)
    code = c.wait()
    assert code != 0
    assert "KeyboardInterrupt" in c.output()
    assert_gone(watched)


@pytest.mark.parametrize("mode", ["normal-end", "exception"])
def test_script_ending_without_closing_its_pool(child, mode):
    c = child(mode)
    watched = c.await_info()
    c.go()
    code = c.wait()
    assert code == (0 if mode == "normal-end" else 1), c.output()
    assert_gone(watched)


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_gate_closure_defined_in_a_script_sees_the_script_globals(child, start_method):
    """A lambda in a script's `__main__` reaches the ranks by value, with the script's globals."""
    c = child("main-closure", start_method)
    watched = c.await_info()
    c.go()
    assert c.wait() == 0, c.output()
    assert "local decisions: [True, False]" in c.output()
    assert_gone(watched)


def test_hang_under_pytest_timeout_thread_method_leaves_nothing(tmp_path):
    test_file = tmp_path / "test_generated_hang.py"
    test_file.write_text(PYTEST_CHILD)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "harness.testing",
        "--rootdir",
        str(tmp_path),
    ]
    env = {"HANG_INFO": str(tmp_path / "info.json"), "HANG_MARKER": str(tmp_path / "running")}
    c = Child(tmp_path, [*argv, str(test_file)], env=env)
    try:
        watched = c.await_info()
        c.go()
        code = c.wait(120)
        output = c.output()
        assert code == 1, output
        assert "Timeout" in output and "test_hangs_past_pytest_timeout" in output, output
        assert_gone(watched)
    finally:
        c.finish()


def test_the_children_import_the_checkout_first_and_keep_the_callers_path():
    assert checkout_first("") == CHECKOUT
    assert checkout_first(f"/vendored{os.pathsep}/more") == os.pathsep.join([CHECKOUT, "/vendored", "/more"])


def _carries(process: psutil.Process, name: str, value: str) -> bool:
    try:
        return process.environ().get(name) == value
    except psutil.Error:  # gone, or not ours to read
        return False


def test_no_process_of_a_command_outlives_it(tmp_path):
    """Its forkserver and resource tracker are ended before the program exits, not a second or two later."""
    mark = f"{os.getpid()}:{tmp_path.name}"
    env = {**os.environ, "PYTHONPATH": checkout_first(os.environ.get("PYTHONPATH", "")), "ORPHAN_TEST_MARK": mark}
    command = [sys.executable, "-m", "harness", "demo"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    left = [p.pid for p in psutil.process_iter() if _carries(p, "ORPHAN_TEST_MARK", mark)]
    assert left == [], left
