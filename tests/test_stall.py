"""Stalls on real worlds: a rank stuck outside any collective is named with its call and its own line
within the stall window; a rank that exits is named the same way; slow calls are not stalls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from harness import Op, Scenario, WorldPool
from harness.records.statuses import RankStatus
from harness.spec.clauses import select
from harness.spec.judge.checks import termination
from harness.spec.progress import PLAIN_EVERY_S
from harness.worlds.stall import LONGER_GATES, PROBE_S, STALL_FLOOR_S, StallRule
from harness.worlds.world import World
from tests.good_impls.slow_gates import COLD_GATE_S
from tests.harness_util import REFERENCE, assert_gone, ranks_table, run_watched, simple

pytestmark = pytest.mark.timeout(300)

STALLING = "tests.bad_impls.stalls_at_third_round:Adapter"
EXITING = "tests.bad_impls.exits_at_second_round:Adapter"
SLOW_GATES = "tests.good_impls.slow_gates:Adapter"
SLOW_GATE_S = 1.5
LONG_DEADLINE_S = 60.0
RUN_TIMEOUT_S = 240


def slow_gate_on_rank_1(query):
    """A gate that computes for longer than the stall floor on rank 1 and passes everywhere."""
    if query.rank == 1:
        time.sleep(SLOW_GATE_S)
    return True


def abort_on_rank_1(query):
    """A gate that crashes rank 1's process with SIGABRT, as a failed C++ assertion would."""
    if query.rank == 1:
        os.abort()
    return True


def certify_cli(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    command = [sys.executable, "-m", "harness", "certify", "--profile", "core", "--world-sizes", "2", *args]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    return done, time.monotonic() - started


def test_rank_stuck_outside_any_collective_is_named_within_the_window():
    rule = StallRule()
    with WorldPool(stall_rule=rule) as pool:
        # Rank 1 counts its gate rounds per process: rounds 1 and 2 here, healthy, teach the rule its pace.
        assert pool.run(STALLING, simple(2, "two-rounds", advances=2)).ok
        result, world, watched = run_watched(pool, STALLING, simple(2, "third-round", advances=2), LONG_DEADLINE_S)
    assert result.statuses() == [RankStatus.HUNG, RankStatus.HUNG], ranks_table(result)
    assert result.stall is not None and result.stall.rank == 1
    assert result.stall.window_s <= result.duration_s < LONG_DEADLINE_S / 2
    first = result.render().splitlines()[0]
    assert first.startswith(
        "rank 1 stalled in call #1 advance 'a' at reference_impl/defects/stalls_at_third_round.py:"
    ), first
    quiet = f"no unfinished rank made progress for {result.stall.window_s:g}s ({result.stall.basis})"
    assert first.endswith(f"in stall (time.sleep): {quiet}"), first
    assert result.stall.basis in (
        "the least the harness waits" + LONGER_GATES,
        "10 times the longest quiet gap of its healthy scenarios" + LONGER_GATES,
    )
    stalled_stack = result.outcomes[1].stack
    assert stalled_stack.startswith("Current thread") or "stalls_at_third_round.py" in stalled_stack.split("\n\n")[0]
    assert "_watch_lifeline" not in stalled_stack
    violations = [str(v) for v in termination(result).violations]
    assert violations[0] == first
    assert violations[1].startswith("rank 0 hung at call #1") and "(a consequence of rank 1)" in violations[1]
    assert_gone(watched)


def test_rank_that_exits_is_named_with_its_line_and_the_others_follow():
    with WorldPool() as pool:
        result, world, watched = run_watched(pool, EXITING, simple(2, "second-round", advances=2), LONG_DEADLINE_S)
    assert result.outcomes[1].status == RankStatus.EXITED and result.outcomes[1].exitcode == 3, ranks_table(result)
    first = result.render().splitlines()[0]
    assert first.startswith(
        "rank 1 exited with code 3 in call #2 advance 'a' at reference_impl/defects/exits_at_second_round.py:"
    )
    assert first.endswith("in exit_process (sys.exit)"), first
    violations = [str(v) for v in termination(result).violations]
    assert violations[0] == first
    assert all("(a consequence of rank 1)" in v for v in violations[1:]) and len(violations) == 2
    assert_gone(watched)


def test_rank_killed_by_a_fatal_signal_is_named_with_its_line():
    scenario = Scenario("abort", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")])
    scenario.decide = abort_on_rank_1
    with WorldPool() as pool:
        result, world, watched = run_watched(pool, REFERENCE, scenario, LONG_DEADLINE_S)
    assert result.outcomes[1].status == RankStatus.KILLED and result.outcomes[1].signal == "SIGABRT", ranks_table(
        result
    )
    first = result.render().splitlines()[0]
    assert first.startswith("rank 1 killed by SIGABRT in call #1 advance 'a' at tests/test_stall.py:"), first
    assert first.endswith("in abort_on_rank_1 (os.abort)"), first
    assert_gone(watched)


def sleeps_on_rank_1(name: str, seconds: float, calls_before: int = 0) -> Scenario:
    ops = [Op("germinate", "a")] + [Op("advance", "a")] * calls_before
    ops += [Op("fault", fault={"kind": "sleep", "seconds": seconds}, ranks=[1]), Op("advance", "a")]
    return Scenario(name, 2, ["a"], ops)


def gate_sleeping_on_rank_1(query):
    if query.rank == 1:
        time.sleep(PROBED_SLEEP_S)
    return True


PROBED_SLEEP_S = 0.25


def test_a_stall_where_an_earlier_one_sat_ends_at_the_probe_and_nothing_else_does(monkeypatch):
    probes = []
    recognised = World._recognised_stall

    def spy(self, *args):
        probes.append(stall := recognised(self, *args))
        return stall

    monkeypatch.setattr(World, "_recognised_stall", spy)
    rule = StallRule()
    rule.observe(REFERENCE, 0.2)  # a window of 2 s: far past the probe and the slow gate, even on a loaded machine
    with WorldPool(stall_rule=rule) as pool:
        first = pool.run(REFERENCE, sleeps_on_rank_1("first", 120), deadline_s=LONG_DEADLINE_S)
        assert first.stall is not None and not first.stall.recognised and not probes, ranks_table(first)
        again = pool.run(REFERENCE, sleeps_on_rank_1("again", 120), deadline_s=LONG_DEADLINE_S)
        probed_before = len(probes)
        # The same line after a gate round more: another point of the process's life, so the full window.
        later = pool.run(REFERENCE, sleeps_on_rank_1("later", 120, calls_before=1), deadline_s=LONG_DEADLINE_S)
        assert later.stall is not None and not later.stall.recognised, ranks_table(later)
        assert probes[probed_before:] and all(stall is None for stall in probes[probed_before:])
        probed_before = len(probes)
        ops = [Op("germinate", "a"), Op("advance", "a")]
        slow = Scenario("slow-gate", 2, ["a"], ops, decide=gate_sleeping_on_rank_1)
        slow_result = pool.run(REFERENCE, slow, deadline_s=LONG_DEADLINE_S)
    assert again.stall is not None and again.stall.recognised and again.stall.rank == 1, ranks_table(again)
    assert again.stall.window_s >= PROBE_S
    line = again.render().splitlines()[0]
    assert line.startswith("rank 1 stalled in call #1 fault: no unfinished rank made progress for"), line
    assert line.endswith("sitting where an earlier stall of this implementation left it after a full window"), line
    assert "run_fault" in again.outcomes[1].stack and again.outcomes[0].stack
    # The slow gate was looked at (rank 1 sat in it past the probe) and found elsewhere: it runs to its end.
    assert slow_result.ok and slow_result.stall is None, ranks_table(slow_result)
    assert again.stall in probes
    assert len(probes) > probed_before and all(stall is None for stall in probes[probed_before:])
    assert all(not o.stack for o in slow_result.outcomes)


def test_slow_calls_are_not_stalls():
    rule = StallRule()
    slow = Scenario("slow-gates", 2, ["a"], [Op("germinate", "a"), Op("advance", "a"), Op("advance", "a")])
    slow.decide = slow_gate_on_rank_1
    with WorldPool(stall_rule=rule) as pool:
        for attempt in range(2):
            result = pool.run(REFERENCE, slow, deadline_s=LONG_DEADLINE_S)
            assert result.ok and result.stall is None, f"attempt {attempt}:{ranks_table(result)}"
    assert rule.window(REFERENCE, LONG_DEADLINE_S) >= 5 * SLOW_GATE_S


def test_slow_but_correct_implementation_is_certified_with_progress_lines(tmp_path):
    assert COLD_GATE_S > STALL_FLOOR_S  # slower than the floor: only a window fitted to the implementation waits
    done, elapsed = certify_cli("--impl", SLOW_GATES, "--corpus", "1", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: certified" in done.stdout
    cert = json.loads((tmp_path / "certificate.json").read_text())
    assert all(c["status"] == "pass" and c["unjudged"] == 0 for c in cert["clauses"]), cert["clauses"]
    assert elapsed > 2 * PLAIN_EVERY_S
    progress = [line for line in done.stderr.splitlines() if line.startswith("progress: world size 2, ")]
    assert progress, done.stderr
    assert "scenarios run" in progress[-1] and "ended early" in progress[-1]


def test_hanging_implementation_fails_termination_quietly_with_quiet(tmp_path):
    done, elapsed = certify_cli("--impl", STALLING, "--corpus", "1", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert elapsed > 2 * PLAIN_EVERY_S  # long enough that progress lines would have appeared
    assert "progress" not in done.stderr, done.stderr
    cert = json.loads((tmp_path / "certificate.json").read_text())
    c6 = next(c for c in cert["clauses"] if c["id"] == "C6")
    assert cert["verdict"] == "not_certified" and c6["status"] == "fail"
    assert c6["reason"].startswith("rank 1 stalled in call #")
    assert "reference_impl/defects/stalls_at_third_round.py:" in c6["reason"]


def test_maxfail_stops_after_the_first_failed_must_clause(tmp_path):
    done, _ = certify_cli(
        "--impl", "tests.bad_impls.suffix_missing:Adapter", "--corpus", "1", "--maxfail", "1", "--quiet",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # not certified: exit code 1, and the table says why
    assert any(line.split()[:1] == ["C4"] and "fail" in line.split() for line in done.stdout.splitlines()), done.stdout
    assert any(line.split()[:1] == ["C5"] and "not_run" in line.split() for line in done.stdout.splitlines()), (
        done.stdout
    )
    cert = json.loads((tmp_path / "certificate.json").read_text())
    statuses = {c["id"]: c["status"] for c in cert["clauses"]}
    assert cert["verdict"] == "not_certified"
    core = [clause.id for clause in select("core")]
    assert core[3] == "C4" and statuses == {
        **{cid: "pass" for cid in core[:3]}, "C4": "fail", **{cid: "not_run" for cid in core[4:]}
    }  # fmt: skip


def test_stall_timeout_on_replay_fixes_the_window(tmp_path):
    scenario = Scenario(
        "sleeps",
        2,
        ["a"],
        [Op("germinate", "a"), Op("fault", fault={"kind": "sleep", "seconds": 120}, ranks=[1]), Op("advance", "a")],
    )
    path = tmp_path / "sleeps.json"
    path.write_text(scenario.to_json())
    command = [sys.executable, "-m", "harness", "replay", str(path), "--impl", REFERENCE, "--stall-timeout", "0.5"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"replaying 'sleeps' with {REFERENCE}"
    first = done.stdout.splitlines()[1]
    assert first == (
        "rank 1 stalled in call #1 fault: no unfinished rank made progress for 0.5s (the stall timeout given)"
    ), done.stdout
