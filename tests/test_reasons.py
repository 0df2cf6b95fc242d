"""What users read for a clause that is not a pass, checked against the event that produced it, on
hand-made results: a call that raised is "raised" with type, message and the implementation's frame; a
rank that exited "died" with its code; a stalled rank "hung"; a broken collective "stopped"; and the
C2 reason says where each rank's stage went. Every route reads these through `judge_scenario`."""

from __future__ import annotations

from harness.records.decisions import default_fields
from harness.records.messages import CallRecord, ErrorInfo
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import Op, Scenario
from harness.records.stacks import Stall
from harness.records.statuses import ClauseStatus, RankStatus
from harness.spec.clauses import BY_ID
from harness.spec.judge import judging
from harness.spec.judge.judging import first_unjudged, judge_scenario, unjudged_lines

OPS = [Op("germinate", "a"), Op("advance", "a"), Op("advance", "a")]
IMPL_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/work/x/harness/rank.py", line 290, in _perform\n'
    "    return adapter.germinate(slot, seed, blueprint)\n"
    '  File "/work/team/their_slot.py", line 41, in germinate\n'
    '    raise RuntimeError("slot a is still cooling down")\n'
    "RuntimeError: slot a is still cooling down\n"
)


def _error(message: str, in_collective: bool = False, traceback: str = IMPL_TRACEBACK) -> ErrorInfo:
    return ErrorInfo(type="RuntimeError", qualname="builtins.RuntimeError", message=message,
                     traceback=traceback, in_collective=in_collective)  # fmt: skip


def _germinated(index: int = 0) -> CallRecord:
    return CallRecord(index=index, op="germinate", slot="a", target=None, stage_before=1, stage_after=2)


def _advanced(rank: int, index: int, after: int = 3, passed: bool = True, decided: bool = True) -> CallRecord:
    local = default_fields(rank, index, 3, decided if rank == 0 else passed)
    returned = dict(default_fields(0, index, 3, decided), passed=passed)
    return CallRecord(index=index, op="advance", slot="a", target=None, stage_before=2, stage_after=after,
                      local=[local], result=returned, collectives={"broadcast": 1})  # fmt: skip


def _result(outcomes: list[RankOutcome], **kwargs) -> ScenarioResult:
    return ScenarioResult(Scenario("regrow-2", len(outcomes), ["a"], OPS), outcomes, 1.0, **kwargs)


def test_every_rank_raising_at_a_germinate_is_raised_with_the_implementations_frame():
    raised = [_germinated(0)]
    raised[0].error, raised[0].stage_after = _error("slot a is still cooling down"), 1
    result = _result([RankOutcome(rank, RankStatus.RAISED, records=list(raised)) for rank in range(2)])
    found = first_unjudged(result)
    assert (found.rank, found.call, found.op, found.event) == (0, 0, "germinate 'a'", "raised")
    assert found.detail.startswith("ranks 0, 1 raised RuntimeError: slot a is still cooling down (at ")
    assert "their_slot.py:41 in germinate" in found.detail and found.detail.endswith(", and stopped there")
    verdict = judge_scenario(BY_ID["C1"], result)
    assert verdict.status == ClauseStatus.INCOMPLETE and verdict.unjudged == 2
    assert verdict.reason == (
        f"2 of the 3 calls this clause reads in scenario 'regrow-2' were never judged: judging stopped at call #0"
        f" germinate 'a', {found.detail};"
        " no violation among the others"
    )
    for word in ("hung", "died"):
        assert word not in verdict.reason
    assert unjudged_lines(result) == [
        f"rank {r}: calls #1-#2 never reported: it stopped after call #0 raised" for r in (0, 1)
    ]


def test_a_rank_that_exited_died_with_its_code_and_the_other_stopped():
    survivor = [_germinated(), _advanced(0, 1)]
    survivor[1].error = _error("the broadcast failed", in_collective=True)
    outcomes = [
        RankOutcome(0, RankStatus.RAISED, records=survivor),
        RankOutcome(1, RankStatus.EXITED, records=[_germinated()], exitcode=3),
    ]
    result = _result(outcomes)
    found = first_unjudged(result)
    assert (found.rank, found.call, found.event) == (1, 1, "died")
    assert found.detail.startswith("rank 1 died: it exited with code 3")
    lines = unjudged_lines(result)
    assert "rank 0: call(s) #1 ended in a failed collective" in lines
    assert "rank 1: calls #1-#2 never reported: it died in call #1 (exit code 3)" in lines


def test_a_stalled_rank_hung():
    outcomes = [
        RankOutcome(0, RankStatus.OK, records=[_germinated(), _advanced(0, 1), _advanced(0, 2)]),
        RankOutcome(1, RankStatus.HUNG, records=[_germinated(), _advanced(1, 1)]),
    ]
    result = _result(outcomes, stall=Stall(rank=1, window_s=2.0, in_collective=False))
    found = first_unjudged(result)
    assert (found.rank, found.call, found.event) == (1, 2, "hung")
    assert found.detail.startswith("rank 1 hung")


def test_a_collective_that_broke_without_a_cause_is_stopped_not_raised():
    records = [_germinated(), _advanced(0, 1)]
    records[1].error = _error("connection reset", in_collective=True)
    result = _result([RankOutcome(0, RankStatus.RAISED, records=records), RankOutcome(1, RankStatus.OK)])
    assert judging.first_unjudged(result).event == "stopped"


def test_the_authority_reason_says_where_each_ranks_stage_went():
    moved = _advanced(0, 1, after=3)
    stayed = _advanced(1, 1, after=2)
    outcomes = [RankOutcome(0, RankStatus.OK, records=[_germinated(), moved]),
                RankOutcome(1, RankStatus.OK, records=[_germinated(), stayed])]  # fmt: skip
    scenario = Scenario("dissent", 2, ["a"], OPS[:2])
    verdict = judge_scenario(BY_ID["C2"], ScenarioResult(scenario, outcomes, 1.0))
    assert verdict.status == ClauseStatus.FAIL
    assert verdict.reason == (
        "call #1 advance 'a': rank 0 decided passed=True; rank 1 returned passed=True and its stage stayed"
        " GERMINATED, while on rank 0 the stage moved GERMINATED -> TRAINING"
    )


def test_a_traceback_every_rank_raised_alike_is_shown_once_with_the_ranks_named():
    scenario = Scenario("raises", 3, ["a"], [Op("germinate", "a")])
    same = 'Traceback (most recent call last):\n  File "adapter.py", line 3, in germinate\nValueError: no'
    other = same.replace("no", "something else")
    error = [ErrorInfo(type="ValueError", qualname="ValueError", message="m", traceback=t, in_collective=False)
             for t in (same, same, other)]  # fmt: skip
    outcomes = [RankOutcome(rank=r, status=RankStatus.RAISED, error=error[r]) for r in range(3)]
    report = ScenarioResult(scenario, outcomes, 0.1).render()
    assert report.count(same) == 1 and "--- ranks 0, 1 (the same) traceback ---" in report
    assert "--- rank 2 traceback ---" in report and other in report
