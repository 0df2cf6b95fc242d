"""The restart of the processes (R5): the records a restart produces, the history stitched from its worlds,
the check on hand-made histories, and one real restart that leaves no process or folder of its ended world."""

from __future__ import annotations

import dataclasses
import os

import pytest

from harness.errors import ScenarioError
from harness.locations import REFERENCE
from harness.procs.scratch import run_folder
from harness.records.decisions import default_fields
from harness.records.messages import CallRecord, RestartCheckpoint
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import Op, Scenario
from harness.records.statuses import ClauseStatus, RankStatus
from harness.spec.clauses import BY_ID
from harness.spec.judge import resume_checks
from harness.spec.judge.judging import judge, judge_scenario
from harness.worlds.env_world import EnvWorld
from harness.worlds.restart import stitched

OPS = [Op("germinate", "a"), Op("restart"), Op("advance", "a"), Op("resume", "a")]


def scenario(world_size: int = 1) -> Scenario:
    return Scenario("restarted", world_size, ["a"], [dataclasses.replace(op) for op in OPS]).validate()


def step(before: dict | None = None, after: dict | None = None, module: str = "w0") -> dict:
    """A `ResumeStep` record: a checkpoint's `before` side, or a restore's `after` side."""
    record = {"source": 0, "size": 10, "refused": None, "before": {}, "after": {}}
    record |= {"module_before": None, "module_after": None}
    if before is not None:
        record |= {"before": before, "module_before": {"probe output": module}}
    if after is not None:
        record |= {"after": after, "module_after": {"probe output": module}}
    return record


def record(index: int, stage: int | None = 3, **fields) -> CallRecord:
    op = OPS[index]
    snapshot = None if op.slot is None else {"stage": stage}
    return CallRecord(index, op.op, op.slot, None, stage_after=stage, snapshot=snapshot, **fields)


def world(records: list[CallRecord], *checkpoints: RestartCheckpoint) -> ScenarioResult:
    outcome = RankOutcome(0, RankStatus.OK, records=records, checkpoints=list(checkpoints))
    return ScenarioResult(scenario(), [outcome], 0.1)


def uninterrupted(stage_after_restart: int = 3) -> ScenarioResult:
    return world(
        [
            record(0, 2),
            record(1, None, restart={"a": step(before={"stage": 2})}),
            record(2, stage_after_restart),
            record(3, stage_after_restart, resume=step(before={"stage": stage_after_restart})),
        ],
        RestartCheckpoint(1, {"a": b"bytes"}),
    )


def new_world(stage_after_restart: int = 3, restored: dict | None = None, **restore) -> ScenarioResult:
    restart = {"a": step(after=restored or {"stage": 2})}
    return world(
        [
            record(1, None, **({"restart": restart} | restore)),
            record(2, stage_after_restart),
            record(3, stage_after_restart, resume=step(before={"stage": stage_after_restart})),
        ]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ops": [Op("restart", "a")]}, "names no slot and no ranks"),
        ({"ops": [Op("restart", ranks=[0])]}, "names no slot and no ranks"),
        ({"rank_ops": {0: [Op("germinate", "a")]}}, "no rank_ops"),
        ({"model": True}, "host network is not checkpointed"),
    ],
)
def test_a_restart_op_ends_the_whole_world_of_a_symmetric_scenario(change, message):
    with pytest.raises(ScenarioError, match=message):
        dataclasses.replace(scenario(2), **change).validate()


def test_a_launchers_world_skips_a_restart_and_says_why():
    world = EnvWorld.__new__(EnvWorld)  # its process group is not needed to decide what it skips
    world.size, world.backend = 2, "gloo"
    assert "only a world the harness started" in world._skip_reason(scenario(2))


def test_rank0s_checkpoint_reaches_the_parent_outside_the_call_records():
    outcome = RankOutcome(0)
    assert not outcome.apply(RestartCheckpoint(1, {"a": b"\x00bytes"}))
    assert outcome.checkpoints == [RestartCheckpoint(1, {"a": b"\x00bytes"})]
    assert "bytes" not in repr(dataclasses.asdict(record(1, None, restart={"a": step(before={})})))


def test_the_restarted_history_takes_each_call_from_the_world_that_ran_it():
    first, second = uninterrupted(), new_world(stage_after_restart=4)
    result = stitched(first.scenario, [first, second])
    records = result.outcomes[0].records
    assert [r.index for r in records] == [0, 1, 2, 3] and result.uninterrupted is first
    assert records[0] is first.outcomes[0].records[0] and records[2] is second.outcomes[0].records[1]
    merged = records[1].restart["a"]
    assert merged["before"] == {"stage": 2} and merged["after"] == {"stage": 2}
    assert result.outcomes[0].checkpoints == []


def test_a_restart_that_never_happened_leaves_the_calls_after_it_unjudged():
    first = uninterrupted()
    result = stitched(first.scenario, [first])
    assert [r.index for r in result.outcomes[0].records] == [0]
    judgement = resume_checks.restarted(result)
    assert judgement.judged == 0 and judgement.unjudged == 3 and not judgement.violations


def test_the_same_history_after_a_restart_passes():
    first = uninterrupted()
    judgement = resume_checks.restarted(stitched(first.scenario, [first, new_world()]))
    assert judgement.judged == 3 and judgement.unjudged == 0 and not judgement.violations


@pytest.mark.parametrize(
    ("second", "kind", "text"),
    [
        (new_world(stage_after_restart=4), "went_on_differently", "call #2 advance 'a': rank 0 is in stage BLENDING"),
        (new_world(restored={"stage": 1}), "restored_differently", "restored slot 'a' in the new world differently"),
        (
            new_world(restart=None, error={"type": "KeyError", "message": "'a'", "in_collective": False}),
            "restored_differently",
            "could not restore rank 0's checkpoint in the new world (fresh processes): KeyError: 'a'",
        ),
    ],
)
def test_a_new_world_that_differs_from_the_uninterrupted_run_fails(second, kind, text):
    first = uninterrupted()
    judgement = resume_checks.restarted(stitched(first.scenario, [first, second]))
    assert judgement.kinds == {kind} and text in judgement.violations[0].text, judgement.violations


def test_a_restart_ends_its_world_and_leaves_no_process_or_folder_behind(world_pool):
    restarted = Scenario("restart-leftovers", 2, ["a"], [dataclasses.replace(op) for op in OPS])
    before = world_pool.world_for(restarted)
    pids, folder = before.pids(), before.folder
    result = world_pool.run(REFERENCE, restarted)
    assert not judge(BY_ID["R5"], result).violations and result.uninterrupted is not None
    assert result.ok and all(not os.path.exists(f"/proc/{pid}") for pid in pids), pids
    assert not os.path.exists(folder)
    after = world_pool.world_for(restarted)
    assert after is not before and set(after.pids()).isdisjoint(pids)
    folders = [name for name in os.listdir(run_folder()) if name.startswith("world")]
    assert len(folders) == len(world_pool.worlds), folders


@pytest.mark.parametrize(("germinated_after_restart", "violations"), [(True, 0), (False, 1)])
def test_only_a_seed_that_came_through_a_checkpoint_must_keep_rank0s_weights(germinated_after_restart, violations):
    """A seed germinated in the new world has the implementation's own initialisation there."""
    ops = [Op("restart"), Op("germinate", "a"), Op("resume", "a")]
    if not germinated_after_restart:
        ops = [Op("germinate", "a"), Op("restart"), Op("resume", "a")]
    restarted = Scenario("regrown", 1, ["a"], ops).validate()
    restart_at = restarted.restarts[0]

    def run(weights: str, first: bool) -> ScenarioResult:
        checkpointed = step(before={"stage": 2}, module=weights)
        fields = {"restart": {"restart": {"a": checkpointed if first else step(after={"stage": 2})}}}
        fields |= {"resume": {"resume": checkpointed}, "germinate": {}}
        records = [
            CallRecord(i, op.op, op.slot, None, **fields[op.op], **({} if op.slot is None else {"snapshot": {}}))
            for i, op in enumerate(ops)
        ]
        outcome = RankOutcome(0, RankStatus.OK, records=records if first else records[restart_at:])
        outcome.checkpoints = [RestartCheckpoint(restart_at, {"a": b""})]
        return ScenarioResult(restarted, [outcome], 0.1)

    first = run("w0", first=True)
    judgement = resume_checks.restarted(stitched(restarted, [first, run("w1", first=False)]))
    assert len(judgement.violations) == violations, judgement.violations


DIVERGED_OPS = [Op("germinate", "a"), Op("advance", "a"), Op("restart"), Op("advance", "a")]


def _diverged_world(records_by_rank: list[list[CallRecord]], *checkpoints: RestartCheckpoint) -> ScenarioResult:
    scenario = Scenario("diverged", 2, ["a"], [dataclasses.replace(op) for op in DIVERGED_OPS]).validate()
    outcomes = [RankOutcome(rank, RankStatus.OK, records=records) for rank, records in enumerate(records_by_rank)]
    outcomes[0].checkpoints = list(checkpoints)
    return ScenarioResult(scenario, outcomes, 0.1)


def _call(index: int, stage: int, passed: bool | None = None, **fields) -> CallRecord:
    op = DIVERGED_OPS[index]
    result = None if passed is None else {"passed": passed}
    snapshot = None if op.slot is None else {"stage": stage}
    return CallRecord(index, op.op, op.slot, None, stage_after=stage, result=result, snapshot=snapshot, **fields)


def test_ranks_that_disagreed_before_the_restart_leave_it_unjudged_and_say_where():
    """Rank 1 applied its own decision before the restart; the new world restores rank 0's checkpoint, so
    rank 1's history differs from the uninterrupted one: that is the disagreement, not the restart."""
    restart = {"a": step(before={"stage": 2})}
    first = _diverged_world(
        [
            [_call(0, 2), _call(1, 2, False), _call(2, 2, restart=restart), _call(3, 2, False)],
            [_call(0, 2), _call(1, 3, True), _call(2, 3, restart=restart), _call(3, 4, True)],
        ],
        RestartCheckpoint(2, {"a": b"bytes"}),
    )
    restored = {"a": step(after={"stage": 2})}
    second = _diverged_world([[_call(2, 2, restart=restored), _call(3, 2, False)]] * 2)
    verdict = judge_scenario(BY_ID["R5"], stitched(first.scenario, [first, second]))
    assert verdict.status == ClauseStatus.INCOMPLETE and not verdict.violations, verdict.reason
    assert "the ranks disagreed before the restart, at call #1 advance 'a' (rank 0 GERMINATED, passed=False;" in (
        verdict.reason
    )
    assert "rank 1 TRAINING, passed=True)" in verdict.reason and "not the restart" in verdict.reason


@pytest.mark.parametrize(("rank1_uninterrupted", "violations"), [("w1", 0), ("w0", 1)])
def test_a_module_that_differed_without_the_restart_is_not_blamed_on_it(rank1_uninterrupted, violations):
    """Rank 1's buffer follows its own gate, in both runs: the restart did not make it differ from rank 0's.
    Where rank 1 held rank 0's module without the restart and another after it, the restart did."""
    restart = {"a": step(before={"stage": 2})}

    def advanced(weights: str) -> CallRecord:
        return _call(3, 3, True, resume=step(before={"stage": 3}, module=weights))

    first = _diverged_world(
        [
            [_call(0, 2), _call(1, 2, False), _call(2, 2, restart=restart), advanced("w0")],
            [_call(0, 2), _call(1, 2, False), _call(2, 2, restart=restart), advanced(rank1_uninterrupted)],
        ],
        RestartCheckpoint(2, {"a": b"bytes"}),
    )
    restored = {"a": step(after={"stage": 2})}
    second = _diverged_world(
        [[_call(2, 2, restart=restored), advanced("w0")], [_call(2, 2, restart=restored), advanced("w1")]]
    )
    judgement = resume_checks.restarted(stitched(first.scenario, [first, second]))
    assert len(judgement.violations) == violations, judgement.violations
    assert all("rank 1 holds another module after the restart" in v.text for v in judgement.violations)


def test_a_rank_that_returned_its_own_decision_without_the_restart_is_not_blamed_on_it():
    """After the restart both ranks return rank 0's decision; without it rank 1 had returned its own score
    (a defect that shows only after enough calls in one process): the uninterrupted run is not one history,
    so the restart is not what differs."""
    restart = {"a": step(before={"stage": 2})}
    decided, own = default_fields(0, 3, 3, True), default_fields(1, 3, 3, True)

    def advanced(result: dict) -> CallRecord:
        return dataclasses.replace(_call(3, 3, True), result=result)

    first = _diverged_world(
        [
            [_call(0, 2), _call(1, 2, False), _call(2, 2, restart=restart), advanced(decided)],
            [_call(0, 2), _call(1, 2, False), _call(2, 2, restart=restart), advanced(own)],
        ],
        RestartCheckpoint(2, {"a": b"bytes"}),
    )
    restored = {"a": step(after={"stage": 2})}
    second = _diverged_world([[_call(2, 2, restart=restored), advanced(decided)]] * 2)
    verdict = judge_scenario(BY_ID["R5"], stitched(first.scenario, [first, second]))
    assert verdict.status == ClauseStatus.INCOMPLETE and not verdict.violations, verdict.reason
    assert (
        f"the ranks disagreed in the uninterrupted run, at call #3 advance 'a' (rank 1 returned score {own['score']!r},"
        f" rank 0 {decided['score']!r})" in verdict.reason
    ), verdict.reason
