"""What users read for a clause that is not a pass, checked against the event that produced it, on
hand-made results: a call that raised is "raised" with type, message and the implementation's frame; a
rank that exited "died" with its code; a stalled rank "hung"; a broken collective "stopped"; and the
C2 reason says where each rank's stage went. Every route reads these through `judge_scenario`."""

from __future__ import annotations

from harness.records.ddp_configs import FIND_UNUSED
from harness.records.decisions import default_fields
from harness.records.messages import TRAINED, CallRecord, ErrorInfo, ModelStep
from harness.records.report import EarlierRuns, RankOutcome, ScenarioResult
from harness.records.scenario import Op, Scenario
from harness.records.stacks import Stall
from harness.records.statuses import ClauseStatus, RankStatus
from harness.spec.clauses import BY_ID
from harness.spec.judge import judging
from harness.spec.judge.judging import first_unjudged, judge, judge_scenario, unjudged_lines
from harness.spec.output.certificate import alone_caveat

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


def _parted_then_stalled() -> ScenarioResult:
    """Call #1 leaves rank 0 in TRAINING and rank 1 in GERMINATED (each applied its own decision); at call
    #2 the ranks run different collectives, and rank 1 stalls."""
    outcomes = [
        RankOutcome(0, RankStatus.OK, records=[_germinated(), _advanced(0, 1), _advanced(0, 2)]),
        RankOutcome(1, RankStatus.HUNG, records=[_germinated(), _advanced(1, 1, after=2, passed=False)]),
    ]
    return _result(outcomes, stall=Stall(rank=1, window_s=2.0, in_collective=False))


PARTED = (
    "; before that, the ranks' lifecycles had diverged: call #1 advance 'a' left the ranks in different stages"
    " (rank 0 TRAINING, rank 1 GERMINATED; own gate decisions: rank 0 passed=True, rank 1 passed=False; returned:"
    " rank 0 passed=True, rank 1 passed=False), which C1 reports: fix that first"
)


def test_a_hang_after_the_ranks_parted_names_the_divergence_after_the_hang():
    result = _parted_then_stalled()
    c1 = judge_scenario(BY_ID["C1"], result)
    assert c1.status == ClauseStatus.FAIL and c1.reason == PARTED.split(": ", 1)[1].removesuffix(
        ", which C1 reports: fix that first"
    )
    c6 = judge_scenario(BY_ID["C6"], result)
    assert c6.status == ClauseStatus.FAIL
    assert c6.reason.startswith("rank 1 stalled in call #2 advance 'a'") and c6.reason.endswith(PARTED)
    assert str(c6.violations[0]) == c6.reason  # the certificate's evidence lists the reason it shows
    s3 = judge_scenario(BY_ID["S3"], result)  # a clause left incomplete by the hang says it too
    assert (
        s3.status == ClauseStatus.INCOMPLETE
        and f"rank 1 hung: it made no progress, and no other rank did{PARTED}" in s3.reason
    )
    assert s3.reason.endswith("; no violation among the others")


def test_a_divergence_says_when_every_rank_returned_rank_0s_decision_yet_applied_its_own():
    result = _parted_then_stalled()
    result.outcomes[1].records[1].result["passed"] = True
    assert judge_scenario(BY_ID["C1"], result).reason.endswith(
        "(rank 0 TRAINING, rank 1 GERMINATED; own gate decisions: rank 0 passed=True, rank 1 passed=False;"
        " returned passed=True on every rank)"
    )


def test_a_divergence_names_the_exception_of_a_rank_whose_call_raised_instead_of_returning():
    result = _parted_then_stalled()
    record = result.outcomes[1].records[1]
    record.result, record.error = None, _error("rank 1 received rank 0's decision for another call")
    record.error["type"] = "DecisionMismatchError"
    assert judge_scenario(BY_ID["C1"], result).reason.endswith(
        "returned: rank 0 passed=True, rank 1 raised DecisionMismatchError)"
    )


def test_a_hang_with_no_divergence_before_it_names_only_the_hang():
    result = _parted_then_stalled()
    for record in result.outcomes[1].records[1:]:
        record.stage_after, record.result = 3, dict(record.result, passed=True)
    assert judge_scenario(BY_ID["C1"], result).status == ClauseStatus.INCOMPLETE
    for clause in ("C6", "S3"):
        reason = judge_scenario(BY_ID[clause], result).reason
        assert "rank 1" in reason and "diverged" not in reason, reason


def _model_call(index: int, slot: str, alpha: float, stage: int, digests: dict[str, str]) -> CallRecord:
    step = ModelStep(TRAINED, "ddp", built=True, digests=digests, heads={name: [0.5] for name in digests})
    return CallRecord(index, "step_epoch", slot, None, stage_before=stage, stage_after=stage,
                      snapshot={"stage": stage, "alpha": alpha}, model=step.to_record())  # fmt: skip


def test_the_model_identity_reason_names_every_tensor_that_parted_first_and_the_slot_state_behind_it():
    """Slot 'a' blends at a different alpha on rank 1; slot b's buffers, after it in the forward, are the
    first tensors to differ, and the reason names slot 'a's alpha as the state behind them."""
    same = {"stem.weight": "s", "slots.b.seed.0.running_mean": "m", "slots.b.seed.0.running_var": "v"}
    parted = dict(same, **{"slots.b.seed.0.running_mean": "M", "slots.b.seed.0.running_var": "V"})
    ranks = [
        [_model_call(0, "a", 0.0, 4, same), _model_call(1, "a", 0.5, 4, same), _model_call(2, "b", 0.0, 2, same)],
        [_model_call(0, "a", 0.0, 4, same), _model_call(1, "a", 0.0, 4, parted), _model_call(2, "b", 0.0, 2, parted)],
    ]
    ops = [Op("step_epoch", "a"), Op("step_epoch", "a"), Op("step_epoch", "b")]
    scenario = Scenario("alpha", 2, ["a", "b"], ops, model=True, ddp=FIND_UNUSED)
    outcomes = [RankOutcome(rank, RankStatus.OK, records=records) for rank, records in enumerate(ranks)]
    verdict = judge_scenario(BY_ID["D2"], ScenarioResult(scenario, outcomes, 0.1))
    assert verdict.status == ClauseStatus.FAIL and len(verdict.violations) == 2
    first, later = map(str, verdict.violations)
    assert first.startswith("call #1 step_epoch 'a' under DistributedDataParallel(")
    assert "2 parameters/buffers differ across ranks (slots.b.seed.0.running_mean, slots.b.seed.0.running_var)" in first
    assert "by then slot 'a' differs across ranks in alpha (rank 0 0.5, rank 1 0)" in first
    assert "stage" not in first.split("by then")[1] and "slot 'b'" not in first
    assert later.startswith("call #2 step_epoch 'b'") and "slot 'a' differs across ranks in alpha" in later


def test_a_deadlock_with_no_rank_to_blame_says_deadlocked_not_hung_hung():
    outcomes = [RankOutcome(rank, RankStatus.HUNG, records=[_germinated(), _advanced(rank, 1)]) for rank in (0, 1)]
    verdict = judge_scenario(BY_ID["C6"], _result(outcomes, deadlock=True))
    assert verdict.reason == "rank 0 hung at call #2: deadlocked in a collective", verdict.reason


def test_no_fail_fast_says_what_each_rank_was_asked_and_what_to_change():
    """Rank 1 advances slot 'a' while rank 0 advances 'b': both return, neither raised."""
    ops = {0: [Op("germinate", "a"), Op("advance", "b")], 1: [Op("germinate", "a"), Op("advance", "a")]}
    scenario = Scenario("parted", 2, ["a", "b"], ops[0], rank_ops=ops)
    records = [[_germinated(), _advanced(rank, 1)] for rank in (0, 1)]
    records[0][1].slot = "b"
    outcomes = [RankOutcome(rank, RankStatus.OK, records=records[rank]) for rank in (0, 1)]
    verdict = judge_scenario(BY_ID["S1"], ScenarioResult(scenario, outcomes, 0.1))
    assert verdict.status == ClauseStatus.FAIL
    assert verdict.reason == (
        "call #1: the ranks disagree on this call (rank 0 advance 'b', rank 1 advance 'a'), yet no rank raised an"
        " error naming slot 'a' or 'b': a rank must detect the mismatch before it applies a decision, and raise"
    )


def test_a_lifecycle_reason_says_what_the_contract_expects_in_words():
    raised, stayed = _advanced(0, 1), _advanced(0, 2, after=3, passed=True)
    raised.error, raised.stage_after, raised.result = _error("no such gate"), 2, None
    stayed.local = [dict(stayed.local[0], passed=False)]
    outcomes = [RankOutcome(0, RankStatus.OK, records=[_germinated(), raised, stayed])]
    result = ScenarioResult(Scenario("words", 1, ["a"], OPS), outcomes, 0.1)
    texts = [str(v) for v in judge(BY_ID["C7"], result).violations]
    assert texts == [
        "rank 0 call #1 slot 'a': raised RuntimeError: no such gate where the contract expects the move to TRAINING",
        "rank 0 call #2 slot 'a': expected a failed result and no move (the gate failed), got passed=True,"
        " stage GERMINATED -> TRAINING",
    ]


def test_a_rank_left_waiting_by_a_rank_that_raised_says_which_one():
    raised = [_germinated(), _advanced(1, 1)]
    raised[1].error = _error("refusing rank 0's decision for another call")
    outcomes = [
        RankOutcome(0, RankStatus.HUNG, records=[_germinated(), _advanced(0, 1)]),
        RankOutcome(1, RankStatus.RAISED, records=raised),
    ]
    verdict = judge_scenario(BY_ID["C6"], _result(outcomes, deadlock=True))
    assert verdict.reason == (
        "rank 0 hung at call #2: deadlocked in a collective, waiting for ranks that had raised and left"
        " (rank 1 at call #1)"
    )


def test_evidence_a_world_of_its_own_did_not_show_again_says_what_ran_before_it():
    """The caveat names what the rank processes had run before the evidence's scenario, so a user can tell
    state kept across scenarios (and how much of it) from a failure that depends on timing."""
    failed = {"status": "fail", "reproduces_alone": False}
    after = EarlierRuns().after("corpus-1", 40).after("divergence-holding-ws2", 12).to_dict()
    caveat = alone_caveat(failed | {"earlier": after})
    assert caveat.startswith(
        "Found after 2 earlier runs of this implementation (shrink candidates counted; 52 calls of every op) in"
        " the same rank processes;"
    ), caveat
    assert "a replay of this file alone may pass; certifying again (certify or the pytest route)" in caveat
    first = alone_caveat({"status": "incomplete", "reproduces_alone": False, "earlier": EarlierRuns().to_dict()})
    assert "the first in its rank processes: what it found depends on timing" in first and "say otherwise" in first
    assert alone_caveat(failed).startswith("Found after earlier scenarios ran")  # a file written before the count
    assert alone_caveat(failed | {"reproduces_alone": True}) == alone_caveat(failed | {"reproduces_alone": None}) == ""
