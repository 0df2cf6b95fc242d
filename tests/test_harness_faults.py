"""Faults on real gloo worlds: deadlocks, raising / exiting / self-killing ranks, sleeps past the deadline.

After every fault that breaks a world, none of that world's processes may remain.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import torch.distributed as dist

from harness import Op, Scenario, WorldPool
from harness.records.statuses import RankStatus
from tests.harness_util import REFERENCE, assert_gone, ranks_table, run_watched, simple, wait_until, world_procs

pytestmark = pytest.mark.timeout(240)


class _Slot:
    def __init__(self, slot_id: str) -> None:
        self.slot_id = slot_id
        self.stage: int | None = None
        self.history: list[int] = []
        self.gate = None


class SkippingAdapter:
    """An upstream-style implementation with the early-exit deadlock shape: every rank evaluates its gate, then
    rank 0's result is shared with `broadcast_object_list`, except that rank 1 takes an early return
    and never joins the broadcast, so the other ranks wait in it for ever."""

    name = "skipping"
    version = "0"
    capabilities = frozenset({"scripted_gates"})

    def make_slot(self, slot_id: str) -> _Slot:
        return _Slot(slot_id)

    def germinate(self, slot: _Slot, seed_id: str, blueprint_id: str) -> None:
        slot.stage, slot.history = 2, [1, 2]

    def advance(self, slot: _Slot, target: int | None) -> dict:
        local = slot.gate(3 if target is None else target)
        if dist.get_rank() == 1:
            return local  # the early exit: no broadcast on this rank
        box = [local]
        dist.broadcast_object_list(box, src=0)
        if box[0]["passed"]:
            slot.stage = 3
            slot.history.append(3)
        return box[0]

    def result_fields(self, result: dict) -> dict:
        return dict(result)

    def stage(self, slot: _Slot) -> int | None:
        return slot.stage

    def snapshot(self, slot: _Slot) -> dict:
        return {"stage": slot.stage, "stage_history": list(slot.history)}

    def make_result(self, fields: dict) -> dict:
        return dict(fields)

    def install_gate(self, slot: _Slot, evaluate) -> None:
        slot.gate = evaluate


SKIPPING = f"{__name__}:SkippingAdapter"


@pytest.fixture
def pool():
    with WorldPool() as pool:
        yield pool


def fault_then_advance(n: int, fault: dict, rank: int = 1) -> Scenario:
    return Scenario(
        f"fault-{fault['kind']}",
        n,
        ["a"],
        [Op("germinate", "a"), Op("fault", fault=fault, ranks=[rank]), Op("advance", "a")],
    )


def assert_recovers(pool: WorldPool, world_size: int) -> None:
    """After a fault, the next scenario of that size completes (on a new world when the fault broke one)."""
    result = pool.run(REFERENCE, simple(world_size, "after-the-fault"))
    assert result.ok, ranks_table(result)


def check_hung(result, rank: int, call: int, in_stack: str) -> None:
    outcome = result.outcomes[rank]
    assert outcome.status == RankStatus.HUNG, ranks_table(result)
    assert outcome.current_call == call
    assert in_stack in outcome.stack, outcome.stack
    assert f"--- rank {rank} stack ---" in result.render()


@pytest.mark.parametrize("n", [2, 3, 4])
def test_rank_skipping_a_broadcast_is_reported_as_a_deadlock(pool, n):
    scenario = Scenario("skip", n, ["a"], [Op("germinate", "a"), Op("advance", "a"), Op("advance", "a")])
    result, world, watched = run_watched(pool, SKIPPING, scenario, deadline_s=60)
    assert result.deadlock, ranks_table(result)
    assert result.outcomes[1].status == RankStatus.OK
    assert len(result.outcomes[1].records) == 3
    hung = [o for o in result.outcomes if o.status == RankStatus.HUNG]
    assert result.outcomes[0] in hung
    assert all(o.status in (RankStatus.OK, RankStatus.HUNG) for o in result.outcomes)
    for outcome in hung:
        check_hung(result, outcome.rank, 1, "broadcast_object_list")
        assert "test_harness_faults.py" in outcome.stack  # the skipping adapter's advance()
    report = result.render()
    assert "deadlocked in a collective, in call #1 advance 'a'" in report
    assert not world.healthy
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


@pytest.mark.parametrize("n", [2, 4])
def test_advance_on_rank_0_only_deadlocks(pool, n):
    scenario = Scenario("rank0-only", n, ["a"], [Op("germinate", "a"), Op("advance", "a", ranks=[0])])
    result, world, watched = run_watched(pool, REFERENCE, scenario, deadline_s=60)
    assert result.deadlock, ranks_table(result)
    check_hung(result, 0, 1, "broadcast")
    assert all(o.status == RankStatus.OK for o in result.outcomes[1:])
    assert all(o.records[1].skipped for o in result.outcomes[1:])
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


def test_collective_joined_by_one_rank_only(pool):
    scenario = Scenario(
        "lonely-barrier",
        3,
        ["a"],
        [Op("germinate", "a"), Op("fault", fault={"kind": "collective"}, ranks=[2])],
    )
    result, world, watched = run_watched(pool, REFERENCE, scenario, deadline_s=60)
    assert result.deadlock, ranks_table(result)
    check_hung(result, 2, 1, "barrier")
    assert result.statuses()[:2] == [RankStatus.OK, RankStatus.OK]
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


@pytest.mark.parametrize("n", [2, 3])
def test_rank_that_raises(pool, n):
    result, world, watched = run_watched(pool, REFERENCE, fault_then_advance(n, {"kind": "raise"}), 60)
    outcome = result.outcomes[1]
    assert outcome.status == RankStatus.RAISED, ranks_table(result)
    assert outcome.failure["type"] == "RuntimeError"
    assert outcome.failure["message"] == "injected fault"
    assert "Traceback" in outcome.failure["traceback"] and "run_fault" in outcome.failure["traceback"]
    report = result.render()
    assert "RuntimeError: injected fault [call #1 fault]" in report
    assert "--- rank 1 traceback ---" in report
    # Rank 0 waits in the broadcast rank 1 never joins (a rank gloo relays through rank 1 does
    # too; one it reaches directly finishes): a deadlock, so the world goes.
    assert result.deadlock
    check_hung(result, 0, 2, "broadcast")
    for outcome in result.outcomes[2:]:
        assert outcome.status in (RankStatus.OK, RankStatus.HUNG)
        if outcome.status == RankStatus.HUNG:
            check_hung(result, outcome.rank, 2, "broadcast")
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


@pytest.mark.parametrize("n", [2, 4])
def test_rank_that_exits(pool, n):
    result, world, watched = run_watched(pool, REFERENCE, fault_then_advance(n, {"kind": "exit", "code": 3}), 60)
    outcome = result.outcomes[1]
    assert (outcome.status, outcome.exitcode, outcome.signal) == (RankStatus.EXITED, 3, None), ranks_table(result)
    assert outcome.current_call == 1
    assert "exited with code 3, during call #1 fault" in result.render()
    assert all(o.status in (RankStatus.OK, RankStatus.RAISED, RankStatus.HUNG) for o in result.outcomes if o.rank != 1)
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


@pytest.mark.parametrize("n", [2, 3])
def test_rank_that_kills_itself(pool, n):
    result, world, watched = run_watched(pool, REFERENCE, fault_then_advance(n, {"kind": "kill"}), 60)
    outcome = result.outcomes[1]
    assert (outcome.status, outcome.signal) == (RankStatus.KILLED, "SIGKILL"), ranks_table(result)
    assert outcome.current_call == 1
    assert "killed by SIGKILL, during call #1 fault" in result.render()
    assert all(o.status in (RankStatus.OK, RankStatus.RAISED, RankStatus.HUNG) for o in result.outcomes if o.rank != 1)
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


@pytest.mark.parametrize("n", [2, 4])
def test_kill_inside_the_gate_evaluation(pool, n):
    local = [True, {"fault": "kill"}] + [True] * (n - 2)
    scenario = Scenario("gate-kill", n, ["a"], [Op("germinate", "a"), Op("advance", "a", local=local)])
    result, world, watched = run_watched(pool, REFERENCE, scenario, 60)
    outcome = result.outcomes[1]
    assert (outcome.status, outcome.signal) == (RankStatus.KILLED, "SIGKILL"), ranks_table(result)
    assert len(outcome.records) == 1 and outcome.current_call == 1
    assert "killed by SIGKILL, during call #1 advance 'a'" in result.render()
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


def test_raise_inside_the_gate_evaluation(pool):
    local = [True, {"fault": "raise", "message": "gate blew up"}]
    scenario = Scenario("gate-raise", 2, ["a"], [Op("germinate", "a"), Op("advance", "a", local=local)])
    result, world, watched = run_watched(pool, REFERENCE, scenario, 60)
    outcome = result.outcomes[1]
    assert outcome.status == RankStatus.RAISED, ranks_table(result)
    assert outcome.failure["message"] == "gate blew up"
    assert outcome.records[1].stage_after == 2
    check_hung(result, 0, 1, "broadcast")
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


@pytest.mark.parametrize("kind", ["raise", "exit", "kill"])
def test_faults_at_world_size_one(pool, kind):
    scenario = Scenario(f"solo-{kind}", 1, ["a"], [Op("germinate", "a"), Op("fault", fault={"kind": kind, "code": 7})])
    result, world, watched = run_watched(pool, REFERENCE, scenario, 60)
    outcome = result.outcomes[0]
    expected = {
        "raise": (RankStatus.RAISED, None, None),
        "exit": (RankStatus.EXITED, 7, None),
        "kill": (RankStatus.KILLED, None, "SIGKILL"),
    }
    assert (outcome.status, outcome.exitcode, outcome.signal) == expected[kind], ranks_table(result)
    if kind == "raise":
        assert world.healthy  # nothing went wrong in the process group: the world is kept
    else:
        assert not world.healthy
        assert_gone(watched)
    assert_recovers(pool, result.world_size)


def test_sleep_past_the_deadline_is_reported_hung(pool):
    deadline = 3.0
    scenario = Scenario(
        "sleepy",
        2,
        ["a"],
        [Op("germinate", "a"), Op("advance", "a"), Op("fault", fault={"kind": "sleep", "seconds": 120}, ranks=[1])],
    )
    started = time.monotonic()
    result, world, watched = run_watched(pool, REFERENCE, scenario, deadline_s=deadline)
    elapsed = time.monotonic() - started
    assert result.statuses() == [RankStatus.OK, RankStatus.HUNG], ranks_table(result)
    assert not result.deadlock
    assert result.duration_s >= deadline  # nothing but the deadline could end this wait
    assert elapsed < deadline + 30  # deadline plus teardown, with room for a loaded machine
    check_hung(result, 1, 2, "run_fault")
    assert "past its deadline, in call #2 fault" in result.render()
    assert_gone(watched)
    assert_recovers(pool, result.world_size)


def test_first_failure_opens_a_grace_period_not_the_whole_deadline():
    """A death gives the survivors the process group's timeout and a margin, not the deadline: a short
    timeout here, so the test waits seconds where a run's default waits twelve."""
    deadline = 120.0
    scenario = Scenario(
        "grace",
        2,
        ["a"],
        [Op("germinate", "a")],
        rank_ops={
            0: [Op("germinate", "a"), Op("fault", fault={"kind": "sleep", "seconds": 300})],
            1: [Op("germinate", "a"), Op("fault", fault={"kind": "exit", "code": 4})],
        },
    )
    with WorldPool(pg_timeout_s=2.0) as pool:
        result, world, watched = run_watched(pool, REFERENCE, scenario, deadline_s=deadline)
        assert result.statuses() == [RankStatus.HUNG, RankStatus.EXITED], ranks_table(result)
        assert result.outcomes[1].exitcode == 4
        assert world.dead_peer_grace_s <= result.duration_s < deadline / 2
        check_hung(result, 0, 1, "run_fault")
        assert_gone(watched)
        assert_recovers(pool, result.world_size)


def receive_from_rank_1_or_0(query):
    """Rank 1's gate ends its process; rank 0's waits to receive from rank 1, every other rank's from rank 0."""
    import torch

    if query.rank == 1:
        os._exit(3)
    dist.recv(torch.zeros(1), src=1 if query.rank == 0 else 0)
    return True


def test_survivors_waiting_on_a_rank_that_gave_up_learn_at_once():
    """Rank 0's receive fails when rank 1 dies; rank 2 waits on rank 0, which will never send. A training
    job's rank 0 would end on that error; the harness ends it once its report is in, so rank 2's receive
    fails on the closed connection at once instead of at the process group's (long) timeout."""
    ops = [Op("germinate", "a"), Op("advance", "a")]
    scenario = Scenario("gave-up", 3, ["a"], ops, decide=receive_from_rank_1_or_0)
    with WorldPool(pg_timeout_s=120) as pool:
        result, world, watched = run_watched(pool, REFERENCE, scenario, 60)
    assert result.statuses() == [RankStatus.RAISED, RankStatus.EXITED, RankStatus.RAISED], ranks_table(result)
    assert all(o.collective_failed for o in (result.outcomes[0], result.outcomes[2]))
    assert "Timed out" not in result.outcomes[2].failure["message"], ranks_table(result)
    assert_gone(watched)


class Interrupted(Exception):
    """What pytest-timeout's signal method (or any SIGALRM handler) raises in the waiting parent."""


def test_run_interrupted_by_an_exception_closes_the_world(pool, tmp_path):
    marker = str(tmp_path / "running")

    def gate(query):
        if query.rank == 1:
            open(marker, "w").close()
            return {"fault": "sleep", "seconds": 300}
        return True

    scenario = Scenario("interrupted", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=gate)
    world, watched = world_procs(pool, scenario)
    main = threading.main_thread().ident

    def interrupt_when_running() -> None:
        if wait_until(lambda: os.path.exists(marker), 60):
            signal.pthread_kill(main, signal.SIGALRM)

    def raise_interrupted(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, raise_interrupted)
    helper = threading.Thread(target=interrupt_when_running, daemon=True)
    try:
        helper.start()
        with pytest.raises(Interrupted):
            pool.run(REFERENCE, scenario, deadline_s=120)
    finally:
        helper.join(60)
        signal.signal(signal.SIGALRM, previous)
    # The ranks were mid-scenario, their pipes full of its messages: that world must not be reused, and
    # no replacement starts while the run unwinds.
    assert not world.healthy and not pool.spares
    assert_gone(watched)
    after = pool.run(REFERENCE, simple(2, "after"), deadline_s=30)
    assert after.ok and not after.world_reused, ranks_table(after)
