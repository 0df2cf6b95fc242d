"""The reference's gate-decision sync on real gloo process groups, one process per rank.

Nothing in torch.distributed is mocked: scenarios run through the harness (`run_scenario`), whose
scripted local results differ per rank and per call (score, check names, message), so a result can
be traced to the rank and call that produced it. Every multi-rank test also requires that no rank
hangs: a mismatch must end in an error on the rank that detects it, never in a wait.
"""

from __future__ import annotations

import itertools

import pytest
import torch.distributed as dist

from harness.locations import REFERENCE
from harness.records.contract import Stage
from harness.records.scenario import Op, Scenario
from harness.testing import assert_completed
from reference_impl import CallableGates, CallIdentity, GateLevel, GateResult, SeedSlot, sync_gate_decision

GOOD_G2 = {"improvement_since_stage_start": 1.0, "gradient_norm_ratio": 0.5}
BAD_G2 = {"improvement_since_stage_start": 0.0, "gradient_norm_ratio": 0.0}


def suffix(local: bool, synced: bool) -> str:
    return f" (local={local}, synced from rank0={synced})"


def divergent_scenario(world_size: int) -> Scenario:
    """Every combination of per-rank local decisions, one slot each, in a single scenario."""
    patterns = list(itertools.product([True, False], repeat=world_size))
    slots = [f"s{i}" for i in range(len(patterns))]
    ops = [Op("germinate", s) for s in slots]
    ops += [Op("advance", s, local=list(p)) for s, p in zip(slots, patterns, strict=True)]
    return Scenario("divergent-local-decisions", world_size, slots, ops)


def calls(result) -> list[list[dict]]:
    """For each advance of the symmetric sequence: the record of every rank, rank 0 first."""
    indexes = [i for i, o in enumerate(result.scenario.ops) if o.op == "advance"]
    return [[outcome.records[i] for outcome in result.outcomes] for i in indexes]


def without_message(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if k != "message"}


@pytest.mark.world_sizes(2, 3)
def test_divergent_local_decisions_follow_rank0(run_scenario, world_size):
    result = run_scenario(divergent_scenario(world_size), impl=REFERENCE)
    assert_completed(result)
    for records, pattern in zip(calls(result), itertools.product([True, False], repeat=world_size), strict=True):
        assert [r.local[0]["passed"] for r in records] == list(pattern)
        decided = records[0].local[0]
        for record in records:
            assert without_message(record.result) == without_message(decided)
            assert record.stage_after == (Stage.TRAINING if decided["passed"] else Stage.GERMINATED)
            assert record.snapshot == records[0].snapshot


@pytest.mark.world_sizes(2, 3)
def test_divergence_suffix_only_where_local_differed(run_scenario, world_size):
    """Rank 0's message, plus the suffix only on a rank other than 0 whose own decision differed."""
    result = run_scenario(divergent_scenario(world_size), impl=REFERENCE)
    assert_completed(result)
    for records in calls(result):
        decided = records[0].local[0]
        for rank, record in enumerate(records):
            local = record.local[0]["passed"]
            expected = decided["message"]
            if rank != 0 and local != decided["passed"]:
                expected += suffix(local, decided["passed"])
            assert record.result["message"] == expected


@pytest.mark.world_sizes(2, 3)
@pytest.mark.parametrize("rank0_metrics", ["good", "bad"])
def test_real_gates_with_divergent_metrics_follow_rank0(run_scenario, world_size, rank0_metrics):
    """With the real G2 and per-rank metrics, rank 0's own checks are what every rank applies."""
    good = rank0_metrics == "good"
    metrics = [GOOD_G2 if good else BAD_G2] + [BAD_G2 if good else GOOD_G2] * (world_size - 1)
    ops = [Op("germinate", "a"), Op("advance", "a")] + [Op("step_epoch", "a")] * 3
    ops.append(Op("advance", "a", metrics=metrics))
    result = run_scenario(Scenario("real-gates", world_size, ["a"], ops, gates="real"), impl=REFERENCE)
    assert_completed(result)
    records = calls(result)[-1]
    expected_stage = Stage.BLENDING if good else Stage.TRAINING
    assert [r.stage_after for r in records] == [expected_stage] * world_size
    rank0 = records[0].result
    assert rank0["passed"] is good
    assert rank0["checks_failed"] == (
        [] if good else ["insufficient_improvement_0.00%_below_0.5%", "low_gradient_ratio_0.00_below_0.1"]
    )
    for record in records[1:]:
        assert without_message(record.result) == without_message(rank0)
        assert record.result["message"] == rank0["message"] + suffix(not good, good)


def test_without_process_group_sync_returns_the_local_object():
    """No process group: the very same object comes back. A collective would have raised (no
    default group), and the sync turns any such error into CollectiveFailedError."""
    assert not dist.is_initialized()
    local = GateResult(gate=GateLevel.G2, passed=False, score=0.25, checks_failed=["x"], message="m")
    assert sync_gate_decision(local, CallIdentity("a", 0, int(Stage.TRAINING), int(Stage.BLENDING))) is local


def test_without_process_group_advance_returns_the_gate_object():
    assert not dist.is_initialized()
    decision = GateResult(gate=GateLevel.G1, passed=True, score=0.5, checks_passed=["ok"], message="m")
    slot = SeedSlot("a", CallableGates(lambda state, target: decision))
    slot.germinate("seed-1", "blueprint-1")
    assert slot.advance_stage() is decision
    assert slot.state.stage == Stage.TRAINING


def test_without_process_group_no_collective_is_counted(run_scenario):
    """The same passthrough in a rank process, where the harness counts every collective entered."""
    ops = [Op("advance", "a"), Op("germinate", "a"), Op("advance", "a", local=False), Op("advance", "a")]
    result = run_scenario(Scenario("passthrough", 1, ["a"], ops, process_group=False), impl=REFERENCE)
    assert_completed(result)
    records = result.outcomes[0].records
    assert [r.collectives for r in records] == [{}] * len(ops)
    assert [r.same_object for r in records[2:]] == [True, True]
    assert result.outcomes[0].collective_totals == {}


def statuses_and_errors(result) -> list[tuple[str, str | None]]:
    return [(o.status, o.failure["type"] if o.failure else None) for o in result.outcomes]


@pytest.mark.world_sizes(2, 3)
def test_slot_mismatch_raises_on_the_detecting_rank(run_scenario, world_size):
    """Rank 1 asks about slot 'b' while rank 0 decides for slot 'a': rank 1 must refuse rank 0's
    decision. The mismatching call is last, so rank 0 has nothing left to wait for."""
    setup = [Op("germinate", "a"), Op("germinate", "b")]
    scenario = Scenario(
        "slot-mismatch",
        world_size,
        ["a", "b"],
        setup + [Op("advance", "a")],
        rank_ops={1: setup + [Op("advance", "b")]},
    )
    result = run_scenario(scenario, impl=REFERENCE)
    assert result.completed, result.render()
    expected = [("ok", None), ("raised", "DecisionMismatchError")] + [("ok", None)] * (world_size - 2)
    assert statuses_and_errors(result) == expected
    message = result.outcomes[1].failure["message"]
    assert "slot 'a'" in message
    assert "slot 'b'" in message
    assert result.outcomes[1].snapshots["b"]["stage"] == Stage.GERMINATED
    for rank in [0, *range(2, world_size)]:
        assert result.outcomes[rank].snapshots["a"]["stage"] == Stage.TRAINING
    last = [o.records[-1].collectives for o in result.outcomes]
    assert last == [{"broadcast": 1}] * world_size


def early_exit_scenario(world_size: int, kind: str, odd_rank: int) -> Scenario:
    """`odd_rank` alone has no seed (`no_active_seed`) or a pruned one (`no_valid_transition`)."""
    others = [r for r in range(world_size) if r != odd_rank]
    if kind == "no_active_seed":
        ops = [Op("germinate", "a", ranks=others), Op("advance", "a")]
    else:
        ops = [Op("germinate", "a"), Op("prune", "a", ranks=[odd_rank]), Op("advance", "a")]
    return Scenario(f"early-exit-{kind}", world_size, ["a"], ops)


@pytest.mark.world_sizes(2, 3)
@pytest.mark.parametrize("kind", ["no_active_seed", "no_valid_transition"])
@pytest.mark.parametrize("odd_rank", [0, 1], ids=["rank0-differs", "rank1-differs"])
def test_early_exit_disagreement_raises_on_the_detecting_ranks(run_scenario, world_size, kind, odd_rank):
    """When rank 0 differs every other rank detects it; when rank 1 differs, only rank 1 does."""
    result = run_scenario(early_exit_scenario(world_size, kind, odd_rank), impl=REFERENCE)
    assert result.completed, result.render()
    detecting = set(range(1, world_size)) if odd_rank == 0 else {odd_rank}
    expected = [
        ("raised", "EarlyExitDisagreementError") if rank in detecting else ("ok", None) for rank in range(world_size)
    ]
    assert statuses_and_errors(result) == expected
    for rank in detecting:
        assert kind in result.outcomes[rank].failure["message"]
    last = [o.records[-1] for o in result.outcomes]
    assert all(r.collectives == last[0].collectives != {} for r in last)


@pytest.mark.world_sizes(2, 3)
def test_call_number_disagreement_raises(run_scenario, world_size):
    """Rank 1's extra advance of slot 'a' counts as a call but never reaches the round (its gate
    raised, and the loop went on), so its next call of 'a' meets rank 0's first one: same slot, same
    transition, different call number. Any extra advance that did reach the round would itself
    have been paired with one of rank 0's calls, so this is how the counters come apart."""
    ops = [Op("germinate", "a"), Op("advance", "a")]
    extra = Op("advance", "a", local={"fault": "raise"}, continue_on_error=True)
    scenario = Scenario("call-mismatch", world_size, ["a"], ops, rank_ops={1: [ops[0], extra, Op("advance", "a")]})
    result = run_scenario(scenario, impl=REFERENCE)
    assert result.completed, result.render()
    expected = [("ok", None), ("raised", "DecisionMismatchError")] + [("ok", None)] * (world_size - 2)
    assert statuses_and_errors(result) == expected
    rank1 = result.outcomes[1]
    assert rank1.records[1].error["type"] == "RuntimeError"
    assert rank1.records[1].collectives == {}
    message = rank1.failure["message"]
    assert "slot 'a' call #1" in message
    assert "slot 'a' call #0" in message
    assert rank1.snapshots["a"]["stage"] == Stage.GERMINATED


def long_message(length: int) -> str:
    """Deterministic text with characters JSON must escape, so the encoded frame outgrows the text."""
    pattern = 'x"\\\n\tα→€😀'
    return (pattern * (length // len(pattern) + 1))[:length]


@pytest.mark.world_sizes(2, 3)
def test_long_decisions_survive_the_broadcast_intact(run_scenario, world_size):
    """Messages whose frame is just under, at and over the fixed frame size, and far over it, with
    rank 0 failing and the others passing so every other rank also appends its suffix."""
    lengths = [*range(200, 520), 2_000, 20_000]
    checks = [f"check_{i}" for i in range(200)]
    ops = [Op("germinate", "a")]
    ops += [
        Op("advance", "a", local=[{"passed": False, "message": "m" * n}] + [True] * (world_size - 1)) for n in lengths
    ]
    ops.append(
        Op(
            "advance",
            "a",
            local=[{"passed": False, "message": long_message(5_000), "checks_failed": checks}]
            + [True] * (world_size - 1),
        )
    )
    result = run_scenario(Scenario("long-decisions", world_size, ["a"], ops), impl=REFERENCE)
    assert_completed(result)
    broadcasts = set()
    for records in calls(result):
        decided = records[0].local[0]
        assert records[0].result == decided
        for record in records[1:]:
            assert record.result == {**decided, "message": decided["message"] + suffix(True, False)}
        assert all(r.collectives == records[0].collectives for r in records)
        broadcasts.add(records[0].collectives.get("broadcast"))
        if len(decided["message"]) > 512:
            assert records[0].collectives == {"broadcast": 2}
    assert broadcasts == {1, 2}
    assert calls(result)[-1][0].result["checks_failed"] == checks


@pytest.mark.world_sizes(2, 3)
def test_collectives_per_call_are_equal_across_ranks(run_scenario, world_size):
    """Every kind of call, early exits included: the same collectives on every rank, call by call,
    at least one for each advance that got past its argument check, none for anything else."""
    rank0_fails_long = [{"passed": False, "message": "m" * 1_000}] + [True] * (world_size - 1)
    plan = [
        # (op, whether it takes part in a round, a check rank 0's result must fail, if any)
        (Op("advance", "a"), True, "no_active_seed"),
        (Op("germinate", "a"), False, None),
        (Op("advance", "a"), True, None),
        (Op("advance", "a", local=rank0_fails_long), True, "r0c3_check"),
        (Op("advance", "a", target=int(Stage.FOSSILIZED)), True, "transition_failed"),
        (Op("advance", "a", target=int(Stage.PRUNED), continue_on_error=True), False, None),
        (Op("step_epoch", "a"), False, None),
        (Op("advance", "a"), True, None),
        (Op("advance", "a"), True, None),
        (Op("advance", "a"), True, None),
        (Op("advance", "a"), True, "no_valid_transition"),
        (Op("prune", "a"), False, None),
        (Op("germinate", "b"), False, None),
        (Op("prune", "b"), False, None),
        (Op("advance", "b"), True, "no_valid_transition"),
        (Op("step_epoch", "b"), False, None),
    ]
    ops = [op for op, _, _ in plan]
    result = run_scenario(Scenario("collectives", world_size, ["a", "b"], ops), impl=REFERENCE)
    assert_completed(result)
    for index, (_, in_round, check) in enumerate(plan):
        records = [o.records[index] for o in result.outcomes]
        assert all(r.collectives == records[0].collectives for r in records), index
        assert bool(records[0].collectives) is in_round, index
        if check is not None:
            assert check in records[0].result["checks_failed"], index
    assert result.outcomes[0].snapshots["a"]["stage"] == Stage.FOSSILIZED
    assert result.outcomes[0].records[3].collectives == {"broadcast": 2}
    totals = [o.collective_totals for o in result.outcomes]
    assert totals == [totals[0]] * world_size
