"""The stall rule and the reading of a stalled rank's stack, without processes."""

from __future__ import annotations

import logging
import os
import sysconfig
import threading

import multiprocess
import pytest

from harness import testing
from harness.pytest_options import STALL_OPTION
from harness.records.stacks import START_UP, frame_in_stack, frame_in_traceback, ordered_stack
from harness.spec import certify as certify_module
from harness.spec.certify import CertifyOptions
from harness.worlds.stall import (
    LONGER_GATES,
    STALL_FACTOR,
    STALL_FLOOR_S,
    STALLED_FLOOR_S,
    UNPROVEN_WINDOW_S,
    StallRule,
    blamed_rank,
    stall_place,
)

IMPL = "mypkg.adapter:Adapter"
HARNESS = os.path.dirname(os.path.abspath(__import__("harness").__file__))
HERE = os.path.abspath(__file__)
THREADING = os.path.abspath(threading.__file__)
CONNECTION = os.path.join(os.path.dirname(os.path.abspath(multiprocess.__file__)), "connection.py")
DUMP = f"""Thread 0x00007f1b87fff6c0 (most recent call first):
  File "{CONNECTION}", line 398 in _recv
  File "{HARNESS}/rank.py", line 113 in _watch_lifeline
  File "{THREADING}", line 982 in run

Thread 0x00007f1b87ffe000 (most recent call first):
  File "/opt/mypkg/metrics.py", line 40 in poll

Current thread 0x00007f1ba67f7b80 (most recent call first):
  File "{HERE}", line 12 in _sync_gate_decision
  File "/opt/mypkg/slot.py", line 112 in advance_stage
  File "{HARNESS}/rank.py", line 262 in _perform
  File "{HARNESS}/rank.py", line 74 in rank_main
  File "<string>", line 1 in <module>
"""


def test_window_before_anything_completed_is_generous():
    assert StallRule().window(IMPL, deadline_s=15.0) == UNPROVEN_WINDOW_S


def test_window_has_a_floor_and_grows_with_observed_gaps():
    rule = StallRule()
    rule.observe(IMPL, 0.001)
    assert rule.window(IMPL, deadline_s=15.0) == STALL_FLOOR_S
    rule.observe(IMPL, 0.5)
    assert rule.window(IMPL, deadline_s=15.0) == STALL_FACTOR * 0.5
    assert rule.window(IMPL, deadline_s=15.0, gap_in_scenario_s=0.8) == STALL_FACTOR * 0.8


def test_window_never_exceeds_the_deadline():
    rule = StallRule()
    rule.observe(IMPL, 4.0)
    assert rule.window(IMPL, deadline_s=15.0) == 15.0


def test_observations_are_per_implementation():
    rule = StallRule()
    rule.observe("slow:Adapter", 2.0)
    rule.observe(IMPL, 0.001)
    assert rule.window(IMPL, deadline_s=15.0) == STALL_FLOOR_S


def test_an_implementation_that_stalled_gets_a_lower_floor():
    rule = StallRule()
    rule.observe(IMPL, 0.001)
    rule.record_stall(IMPL, STALL_FLOOR_S)
    assert rule.window(IMPL, deadline_s=15.0) == STALLED_FLOOR_S
    rule.observe(IMPL, 0.2)
    assert rule.window(IMPL, deadline_s=15.0) == STALL_FACTOR * 0.2


def test_a_stall_leaves_where_it_sat_and_only_that_place_is_recognised():
    rule = StallRule()
    assert not rule.probes(IMPL) and stall_place(1, 4, "") is None  # no dump read: nothing to recognise later
    rule.record_stall(IMPL, STALLED_FLOOR_S, stall_place(1, 4, DUMP))
    assert rule.probes(IMPL) and not rule.probes("other:Adapter")
    assert rule.stalled_at(IMPL, stall_place(1, 4, DUMP)) and rule.stalled_at(
        IMPL, stall_place(1, 4, ordered_stack(DUMP))
    )
    assert rule.stalled_at(
        IMPL, stall_place(1, 4, DUMP.replace("line 40 in poll", "line 41 in poll"))
    )  # another thread
    assert not rule.stalled_at("other:Adapter", stall_place(1, 4, DUMP))
    assert not rule.stalled_at(
        IMPL, stall_place(1, 4, DUMP.replace("line 112 in advance_stage", "line 113 in advance_stage"))
    )
    assert not rule.stalled_at(IMPL, stall_place(1, 3, DUMP))  # the same line at another point of the process's life
    assert not rule.stalled_at(IMPL, stall_place(0, 4, DUMP))
    assert not rule.stalled_at(IMPL, None)
    fixed = StallRule(fixed_s=0.5)
    fixed.record_stall(IMPL, 0.5, stall_place(1, 4, DUMP))
    assert not fixed.probes(IMPL)


def test_a_window_says_where_its_length_comes_from():
    """A certification learnt the pace a replay has not: the reason says why the two windows differ."""
    rule = StallRule()
    assert rule.basis(IMPL, 15.0) == "the wait while none of its scenarios has completed yet" + LONGER_GATES
    rule.observe(IMPL, 0.001)
    assert rule.basis(IMPL, 15.0) == "the least the harness waits" + LONGER_GATES
    rule.observe(IMPL, 0.5)
    assert rule.basis(IMPL, 15.0) == "10 times the longest quiet gap of its healthy scenarios" + LONGER_GATES
    assert rule.basis(IMPL, 3.0) == "the scenario's deadline" and rule.window(IMPL, 3.0) == 3.0
    rule.record_stall(IMPL, STALL_FLOOR_S)
    assert (
        rule.basis(IMPL, 15.0, gap_in_scenario_s=0.01)
        == "10 times the longest quiet gap of its healthy scenarios" + LONGER_GATES
    )
    stalled = StallRule()
    stalled.record_stall(IMPL, UNPROVEN_WINDOW_S)
    assert (
        stalled.basis(IMPL, 15.0) == "the least the harness waits once this implementation has stalled" + LONGER_GATES
    )
    assert StallRule(fixed_s=0.3).basis(IMPL, 15.0) == "the stall timeout given"
    assert (
        f"--stall-timeout ({STALL_OPTION} under pytest)" in LONGER_GATES
    )  # the options' names, as both routes spell them
    assert StallRule(fixed_s=30.0).basis(IMPL, 15.0) == "the scenario's deadline"


def test_fixed_window_overrides_the_rule():
    rule = StallRule(fixed_s=0.3)
    rule.observe(IMPL, 2.0)
    assert rule.window(IMPL, deadline_s=15.0) == 0.3


def test_blame_goes_to_the_rank_outside_any_collective_then_to_the_one_behind():
    assert blamed_rank([0, 1, 2], {0: True, 1: False, 2: True}, {0: 5, 1: 4, 2: 5}) == 1
    assert blamed_rank([0, 1], {0: True, 1: True}, {0: 5, 1: 4}) == 1


def test_own_frame_is_the_main_threads_innermost_outside_the_harness():
    frame = frame_in_stack(DUMP)
    assert frame is not None
    assert (frame.file, frame.line, frame.function) == (HERE, 12, "_sync_gate_decision")
    assert str(frame).startswith("tests/test_stall_rule.py:12 in _sync_gate_decision")


def test_own_frame_is_the_implementations_line_that_called_into_the_standard_library():
    """torch's logging wrapper had called `logging.debug` when the stack was read: the line to fix is the
    implementation's, outside every standard-library module (one installed in site-packages is its own)."""
    logging_file = os.path.abspath(logging.__file__)
    site = sysconfig.get_paths()["purelib"]
    dump = DUMP.replace(
        f'  File "{HERE}", line 12 in _sync_gate_decision\n',
        f'  File "{logging_file}", line 1572 in findCaller\n  File "{logging_file}", line 1500 in debug\n'
        f'  File "{site}/mypkg_installed/core.py", line 220 in _sync\n',
    )
    frame = frame_in_stack(dump)
    assert frame is not None and (frame.file, frame.line) == (f"{site}/mypkg_installed/core.py", 220), frame


def test_ordered_stack_puts_the_main_thread_first_and_leaves_out_harness_threads():
    ordered = ordered_stack(DUMP)
    assert ordered.startswith("Current thread 0x00007f1ba67f7b80")
    assert "_watch_lifeline" not in ordered
    assert "/opt/mypkg/metrics.py" in ordered
    assert "(1 harness thread(s) left out)" in ordered
    assert ordered.splitlines()[:6] == [
        "Current thread 0x00007f1ba67f7b80 (most recent call first):",
        f'  File "{HERE}", line 12 in _sync_gate_decision',
        '  File "/opt/mypkg/slot.py", line 112 in advance_stage',
        f'  File "{HARNESS}/rank.py", line 262 in _perform',
        f'  File "{HARNESS}/rank.py", line 74 in rank_main',
        START_UP,
    ]  # the process's start-up below its entry point is the same in every rank of every run
    assert "<string>" not in ordered


def test_frame_in_a_formatted_traceback():
    text = f"""Traceback (most recent call last):
  File "{HARNESS}/rank.py", line 231, in _execute
    result = self._perform(op, slot)
  File "/opt/mypkg/slot.py", line 351, in _sync_gate_decision
    sys.exit(3)
SystemExit: 3
"""
    frame = frame_in_traceback(text)
    assert frame is not None and (frame.file, frame.line) == ("/opt/mypkg/slot.py", 351)


def test_an_implementation_that_stalled_pays_no_unproven_window_again():
    """One that never completes a scenario would otherwise wait the unproven window in every world."""
    from harness.worlds.stall import STALLED_FLOOR_S, UNPROVEN_WINDOW_S, StallRule

    rule = StallRule()
    assert rule.window("impl", 60.0) == UNPROVEN_WINDOW_S
    rule.record_stall("impl", UNPROVEN_WINDOW_S)
    assert rule.window("impl", 60.0) == STALLED_FLOOR_S


class _Options:
    """A pytest config's `getoption`, for the options the suite's pools read."""

    def __init__(self, stall_timeout_s: float | None) -> None:
        self.stall_timeout_s = stall_timeout_s

    def getoption(self, name: str) -> float | None:
        assert name == STALL_OPTION
        return self.stall_timeout_s


class _Stop(Exception):
    pass


@pytest.mark.parametrize("stall_timeout_s", [None, 2.5])
def test_the_pytest_routes_pools_get_the_stall_rule_certify_gets_for_the_same_options(stall_timeout_s, monkeypatch):
    given = []

    def spy(value: float | None):
        given.append(value)
        raise _Stop

    monkeypatch.setattr(certify_module, "certification_pools", spy)
    with pytest.raises(_Stop):
        certify_module.certify(CertifyOptions(profile="core", world_sizes=(1,), stall_timeout_s=stall_timeout_s))
    monkeypatch.undo()
    assert given == [stall_timeout_s] and testing.certification_pools is certify_module.certification_pools
    warm, alone = testing.suite_pools(_Options(stall_timeout_s))
    with warm, alone:
        assert warm.stall_rule == StallRule(fixed_s=stall_timeout_s) and alone.stall_rule is warm.stall_rule
        assert alone.fresh and not warm.fresh
