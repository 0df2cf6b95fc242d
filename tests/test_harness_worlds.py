"""Real gloo worlds of 1 to 4 ranks: divergent per-rank inputs, warm reuse, rebuilds after failures."""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch.distributed as dist

from harness import GateQuery, Op, Scenario, WorldPool
from harness.records.report import EarlierRuns
from harness.records.statuses import RankStatus
from tests.harness_util import (
    REFERENCE,
    alive,
    assert_gone,
    ranks_table,
    run_watched,
    simple,
    wait_until,
    world_procs,
)

GERMINATED, TRAINING, BLENDING, HOLDING = 2, 3, 4, 6
SIZES = [1, 2, 3, 4]
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def pool():
    with WorldPool() as pool:
        yield pool


def advance_records(outcome) -> list[dict]:
    return [r for r in outcome.records if r.op == "advance"]


@pytest.mark.parametrize("n", SIZES)
def test_divergent_bool_inputs_reach_each_rank_and_rank0_decides(pool, n):
    passes = [r % 2 == 0 for r in range(n)]  # rank 0 passes, odd ranks fail
    fails_on_0 = [False] + [True] * (n - 1)  # rank 0 fails, the others pass
    scenario = Scenario(
        "divergent-bools",
        n,
        ["a"],
        [Op("germinate", "a"), Op("advance", "a", local=passes), Op("advance", "a", local=fails_on_0)],
    )
    result = pool.run(REFERENCE, scenario, deadline_s=30)
    assert result.ok, ranks_table(result)
    for rank, outcome in enumerate(result.outcomes):
        first, second = advance_records(outcome)
        assert [f["passed"] for f in first.local] == [passes[rank]]
        assert [f["passed"] for f in second.local] == [fails_on_0[rank]]
        # Each rank evaluated its own gate (its own default score), and applied rank 0's result.
        assert first.local[0]["score"] == pytest.approx(0.1 + 0.1 * rank + 0.001)
        assert first.result["passed"] is True
        assert first.result["score"] == pytest.approx(0.101)
        assert first.result["checks_passed"] == ["r0c1_check"]
        assert (first.stage_before, first.stage_after) == (GERMINATED, TRAINING)
        assert second.result["passed"] is False
        assert second.result["checks_failed"] == ["r0c2_check"]
        assert (second.stage_before, second.stage_after) == (TRAINING, TRAINING)
        assert outcome.snapshots["a"]["stage"] == TRAINING
    snapshots = [o.snapshots for o in result.outcomes]
    assert all(s == snapshots[0] for s in snapshots)


@pytest.mark.parametrize("n", SIZES)
def test_divergent_dict_inputs_and_one_value_for_every_rank(pool, n):
    per_rank = [{"score": 0.5 + rank / 10, "message": f"custom {rank}"} for rank in range(n)]
    scenario = Scenario(
        "divergent-dicts",
        n,
        ["a", "b"],
        [
            Op("germinate", "a"),
            Op("germinate", "b"),
            Op("advance", "a", local=per_rank),
            Op("advance", "b", local=False),  # one value, the same on every rank
        ],
    )
    result = pool.run(REFERENCE, scenario, deadline_s=30)
    assert result.ok, ranks_table(result)
    for rank, outcome in enumerate(result.outcomes):
        on_a, on_b = advance_records(outcome)
        assert on_a.local[0]["score"] == pytest.approx(0.5 + rank / 10)
        assert on_a.local[0]["message"] == f"custom {rank}"
        assert on_a.local[0]["passed"] is True
        assert on_a.result["score"] == pytest.approx(0.5)
        assert on_a.result["message"].startswith("custom 0")
        assert on_a.stage_after == TRAINING
        assert on_b.local[0]["passed"] is False
        assert on_b.result["passed"] is False
        assert on_b.stage_after == GERMINATED


@pytest.mark.parametrize("n", SIZES)
def test_gate_closure_decides_per_rank_and_call(pool, n):
    failing = {rank for rank in range(n) if rank % 2 == 1}
    base = 0.25
    asked: list[GateQuery] = []  # stays empty here: the closure runs in the ranks

    def gate(query: GateQuery) -> dict:
        asked.append(query)
        return {
            "passed": query.rank not in failing,
            "score": base + query.rank / 100,
            "message": f"closure r{query.rank} c{query.call} {query.slot} t{query.target}",
        }

    scenario = Scenario(
        "closure",
        n,
        ["a", "b"],
        [Op("germinate", "a"), Op("germinate", "b"), Op("advance", "a"), Op("advance", "b")],
        decide=gate,
    )
    result = pool.run(REFERENCE, scenario, deadline_s=30)
    assert result.ok, ranks_table(result)
    assert asked == []
    for rank, outcome in enumerate(result.outcomes):
        on_a, on_b = advance_records(outcome)
        assert on_a.local[0]["message"] == f"closure r{rank} c2 a t{TRAINING}"
        assert on_b.local[0]["message"] == f"closure r{rank} c3 b t{TRAINING}"
        assert on_a.local[0]["passed"] is (rank not in failing)
        assert on_a.local[0]["score"] == pytest.approx(base + rank / 100)
        assert on_a.result["message"].startswith("closure r0 c2 a")
        assert on_a.stage_after == on_b.stage_after == TRAINING


@pytest.mark.parametrize("n", [2, 4])
def test_gate_lambda(pool, n):
    scenario = Scenario(
        "lambda",
        n,
        ["a"],
        [Op("germinate", "a"), Op("advance", "a"), Op("advance", "a")],
        decide=lambda q: q.call == 1 and q.rank != n - 1,
    )
    result = pool.run(REFERENCE, scenario, deadline_s=30)
    assert result.ok, ranks_table(result)
    for rank, outcome in enumerate(result.outcomes):
        first, second = advance_records(outcome)
        assert first.local[0]["passed"] is (rank != n - 1)
        assert second.local[0]["passed"] is False
        assert first.result["passed"] is True and second.result["passed"] is False
        assert outcome.snapshots["a"]["stage"] == TRAINING


def test_world_size_one_without_a_process_group(pool):
    scenario = Scenario("no-pg", 1, ["a"], [Op("germinate", "a"), Op("advance", "a")], process_group=False)
    result = pool.run(REFERENCE, scenario, deadline_s=30)
    assert result.ok, ranks_table(result)
    record = advance_records(result.outcomes[0])[0]
    assert record.collectives == {}
    assert record.stage_after == TRAINING


def test_a_result_counts_what_its_implementation_ran_before_it_in_the_same_rank_processes():
    """An implementation that keeps state per process fails only after its own earlier runs: the count is its
    own (the reference's answers to shrink candidates run in the same worlds), and a new world starts at 0."""
    other = "tests.good_impls.no_prune:Adapter"
    with WorldPool() as pool:
        first = pool.run(REFERENCE, simple(2, "first", advances=2))
        between = pool.run(other, simple(2, "between"))
        after = pool.run(REFERENCE, simple(2, "after"))
        assert pool.started == 1 and after.world_reused and between.world_reused
    assert first.earlier == EarlierRuns() and between.earlier == EarlierRuns()
    assert after.earlier == EarlierRuns(1, 3, "first")  # germinate and two advances
    with WorldPool(fresh=True) as fresh:
        fresh.run(REFERENCE, simple(2, "one"))
        assert fresh.run(REFERENCE, simple(2, "two")).earlier == EarlierRuns()


@pytest.mark.parametrize("n", SIZES)
def test_warm_world_is_reused_across_many_scenarios(n):
    with WorldPool() as pool:
        world, watched = world_procs(pool, simple(n))
        pids = world.pids()
        for i in range(12):
            local = [(rank + i) % 3 != 0 for rank in range(n)]
            advances = 1 + i % 3
            scenario = simple(n, f"warm-{i}", advances=advances, local=local)
            result = pool.run(REFERENCE, scenario, deadline_s=30)
            assert result.ok, ranks_table(result)
            assert result.world_reused is (i > 0)
            assert pool.world_for(scenario) is world
            assert world.pids() == pids
            assert all(alive(p) for p in watched)
            expected = [GERMINATED, TRAINING, BLENDING, HOLDING][advances] if local[0] else GERMINATED
            assert [o.snapshots["a"]["stage"] for o in result.outcomes] == [expected] * n
        assert pool.started == 1
    assert_gone(watched)


def test_fresh_mode_starts_a_world_per_scenario():
    with WorldPool(fresh=True) as pool:
        seen: list[int] = []
        for i in range(3):
            world, watched = world_procs(pool, simple(2))
            assert not set(world.pids()) & set(seen)
            seen += world.pids()
            result = pool.run(REFERENCE, simple(2, f"fresh-{i}"), deadline_s=30)
            assert result.ok, ranks_table(result)
            assert result.world_reused is False
            assert_gone(watched)
        assert pool.started == 3 and not pool.spares


@pytest.mark.parametrize("n", [2, 3, 4])
def test_world_rebuilt_after_a_failure(n):
    with WorldPool() as pool:
        first, first_world, first_procs = run_watched(pool, REFERENCE, simple(n, "before"))
        assert first.ok, ranks_table(first)
        crash = Scenario(
            "crash",
            n,
            ["a"],
            [Op("germinate", "a"), Op("fault", fault={"kind": "kill"}, ranks=[n - 1]), Op("advance", "a")],
        )
        crashed = pool.run(REFERENCE, crash, deadline_s=30)
        assert crashed.world_reused is True
        assert crashed.outcomes[n - 1].status == RankStatus.KILLED, ranks_table(crashed)
        assert not first_world.healthy
        assert_gone(first_procs)
        # Its replacement was launched as it closed, the only world of that size alive.
        spare = pool.spares[first_world.config]
        assert not spare.healthy and first_world.config not in pool.worlds

        after, second_world, second_procs = run_watched(pool, REFERENCE, simple(n, "after"))
        assert after.ok, ranks_table(after)
        assert after.world_reused is False
        assert second_world is spare and not pool.spares
        assert not {p.pid for p in second_procs} & {p.pid for p in first_procs}
        again = pool.run(REFERENCE, simple(n, "again"), deadline_s=30)
        assert again.ok and again.world_reused, ranks_table(again)
        assert second_world.pids() == [p.pid for p in second_procs]
        assert pool.started == 2
    assert_gone(second_procs)


def test_exception_outside_any_collective_keeps_the_world():
    """A rank that raises between symmetric collectives leaves a healthy process group behind."""
    with WorldPool() as pool:
        scenario = Scenario(
            "raise-last",
            2,
            ["a"],
            [Op("germinate", "a"), Op("advance", "a"), Op("fault", fault={"kind": "raise"}, ranks=[1])],
        )
        result, world, watched = run_watched(pool, REFERENCE, scenario)
        assert result.statuses() == [RankStatus.OK, RankStatus.RAISED], ranks_table(result)
        assert result.completed and not result.ok
        assert world.healthy
        again = pool.run(REFERENCE, simple(2, "again"), deadline_s=30)
        assert again.ok and again.world_reused, ranks_table(again)
        assert world.pids() == [p.pid for p in watched]
    assert_gone(watched)


def test_rank_killed_while_idle_is_reported_and_the_world_replaced():
    with WorldPool() as pool:
        world, watched = world_procs(pool, simple(3))
        os.kill(watched[2].pid, signal.SIGKILL)
        assert wait_until(lambda: not alive(watched[2]), 10)
        result = pool.run(REFERENCE, simple(3, "after-kill"), deadline_s=30)
        assert result.outcomes[2].status == RankStatus.KILLED, ranks_table(result)
        assert result.outcomes[2].signal == "SIGKILL"
        assert not world.healthy
        assert_gone(watched)
        after = pool.run(REFERENCE, simple(3, "replaced"), deadline_s=30)
        assert after.ok and not after.world_reused, ranks_table(after)


def test_rank_output_is_captured_and_shown_on_failure():
    def gate(query: GateQuery):
        print(f"hello from rank {query.rank} call {query.call}", flush=True)
        return {"fault": "exit", "code": 5} if query.rank == 1 else True

    with WorldPool() as pool:
        scenario = Scenario("output", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=gate)
        result, world, watched = run_watched(pool, REFERENCE, scenario)
        assert result.outcomes[1].status == RankStatus.EXITED and result.outcomes[1].exitcode == 5, ranks_table(result)
        assert "hello from rank 1 call 1" in result.outcomes[1].output
        assert "hello from rank 0 call 1" in result.outcomes[0].output
        report = result.render()
        assert "--- rank 1 output ---" in report
        assert "hello from rank 1 call 1" in report
        assert "exited with code 5, during call #1 advance 'a'" in report
        assert_gone(watched)


def _slow_restore(fields: dict) -> dict:
    time.sleep(0.5)
    return fields


class _SlowToUnpickle:
    """Unpickles slowly: a receiving rank stays inside `broadcast_object_list` after rank 0 left it."""

    def __init__(self, fields: dict) -> None:
        self.fields = fields

    def __reduce__(self):
        return _slow_restore, (self.fields,)


class _Slot:
    def __init__(self) -> None:
        self.stage, self.history, self.gate = None, [], None


class SlowReceiverAdapter:
    """A correct implementation whose receiving ranks finish the broadcast late."""

    name = "slow-receiver"
    version = "0"
    capabilities = frozenset({"scripted_gates"})

    def make_slot(self, slot_id):
        return _Slot()

    def germinate(self, slot, seed_id, blueprint_id):
        slot.stage, slot.history = GERMINATED, [1, GERMINATED]

    def advance(self, slot, target):
        box = [_SlowToUnpickle(slot.gate(TRAINING))]
        dist.broadcast_object_list(box, src=0)
        decided = box[0].fields if isinstance(box[0], _SlowToUnpickle) else box[0]
        if decided["passed"]:
            slot.stage = TRAINING
            slot.history.append(TRAINING)
        return decided

    def result_fields(self, result):
        return dict(result)

    def stage(self, slot):
        return slot.stage

    def snapshot(self, slot):
        return {"stage": slot.stage, "stage_history": list(slot.history)}

    def make_result(self, fields):
        return dict(fields)

    def install_gate(self, slot, evaluate):
        slot.gate = evaluate


@pytest.mark.parametrize("n", [2, 3])
def test_rank_still_inside_a_completed_collective_is_not_a_deadlock(pool, n):
    """Rank 0 leaves the broadcast and ends its sequence while the others are still inside it
    (unpickling): that is a slow rank, not a deadlock, however long it takes."""
    scenario = Scenario("slow-receiver", n, ["a"], [Op("germinate", "a"), Op("advance", "a")])
    result = pool.run(f"{__name__}:SlowReceiverAdapter", scenario, deadline_s=60)
    assert result.ok and not result.deadlock, ranks_table(result)
    assert all(o.snapshots["a"]["stage"] == TRAINING for o in result.outcomes)
