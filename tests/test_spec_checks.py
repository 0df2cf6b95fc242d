"""The checks' own rules, on hand-made results: exact field comparison, judged and unjudged counts,
provenance of every payload, and the shrinker keeping the defect."""

from __future__ import annotations

import itertools
import math
import os

import pytest

import harness
from harness.records.decisions import default_fields, local_decision
from harness.records.messages import CallRecord
from harness.records.payloads import NAMED as PAYLOADS
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import PAYLOAD_NAMES, Op, Scenario
from harness.records.statuses import ClauseStatus, RankStatus, Verdict
from harness.spec import shrink as shrink_module
from harness.spec.clauses import BY_ID
from harness.spec.judge import checks
from harness.spec.judge.checks import differing_fields, fingerprint, same_float
from harness.spec.judge.judging import judge_scenario, unusable
from harness.spec.output.certificate import verdict
from harness.spec.runner import ClauseOutcome, ClauseRunner, Implementation
from harness.spec.scenarios import propagation
from harness.spec.shrink import shrink


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (0.0, 0.0, True),
        (0.0, -0.0, False),
        (math.nan, math.nan, True),
        (math.nan, 1.0, False),
        (math.inf, math.inf, True),
    ],
)
def test_scores_compare_bit_for_bit(a, b, same):
    assert same_float(a, b) is same


def test_every_payload_is_unique_to_its_rank_and_call():
    seen = {}
    for payload, rank, call, passed in itertools.product(PAYLOAD_NAMES, range(4), range(6), (True, False)):
        op = Op("advance", "a", local={"passed": passed, "payload": payload})
        fields = local_decision(Scenario("s", 4, ["a"], [op]), op, rank, call, 3)
        key = fingerprint(fields)
        assert seen.setdefault(key, (rank, call)) == (rank, call), (payload, rank, call)


def test_payloads_reach_the_sizes_the_spec_promises():
    base = default_fields(1, 2, 3, True)
    assert len(PAYLOADS["long"](base, 1, 2)["message"]) > 64 * 1024
    assert "\x00" in PAYLOADS["unicode"](base, 1, 2)["message"]
    many = PAYLOADS["many_checks"](base, 1, 2)["checks_passed"]
    assert len(many) >= 300 and len(set(many)) < len(many) and many != sorted(many)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"message": "rank 0 call 1: pass (local=False, synced from rank0=True)"}, []),
        ({"message": "rank 0 call 1: pass (any short parenthesised tail)"}, []),
        ({"message": "rank 0 call 1: pass [synced]"}, ["message"]),
        ({"message": "rank 0 call 1: pas"}, ["message"]),
        ({"score": -0.0}, ["score"]),
        ({"checks_passed": ["r0c1_check", "r0c1_check"]}, ["checks_passed"]),
        ({"gate": 2}, ["gate"]),
    ],
)
def test_integrity_compares_every_field_exactly(change, fields):
    decided = {**default_fields(0, 1, 3, True), "score": 0.0}
    assert differing_fields({**decided, **change}, decided) == fields


def _record(index: int, op: Op, stage_before, stage_after, local: dict | None, result: dict | None) -> CallRecord:
    return CallRecord(
        index=index,
        op=op.op,
        slot=op.slot,
        target=op.target,
        stage_before=stage_before,
        stage_after=stage_after,
        local=[local] if local else [],
        result=result,
        same_object=False,
        collectives={"broadcast": 1},
        snapshot={"stage": stage_after},
    )


def test_calls_a_rank_never_reported_are_unjudged_not_passed():
    ops = [Op("germinate", "a"), Op("advance", "a"), Op("advance", "a")]
    scenario = Scenario("hang", 2, ["a"], ops)
    outcomes = []
    for rank in range(2):
        fields = [default_fields(rank, 1, 3, True)]
        records = [
            _record(0, ops[0], None, 2, None, None),
            _record(1, ops[1], 2, 3, fields[0], default_fields(0, 1, 3, True)),
        ]
        if rank == 0:
            records.append(_record(2, ops[2], 3, 4, default_fields(0, 2, 4, True), default_fields(0, 2, 4, True)))
        outcomes.append(RankOutcome(rank=rank, status=RankStatus.OK if rank == 0 else RankStatus.HUNG, records=records))
    result = ScenarioResult(scenario, outcomes, 1.0)
    for check in (checks.agreement, checks.authority, checks.integrity, checks.side_effects):
        judgement = check(result)
        assert judgement.unjudged == 1 and not judgement.violations, check.__name__
    assert checks.termination(result).kinds == {RankStatus.HUNG}


def test_shrink_keeps_only_candidates_the_judge_accepts():
    ops = [Op("germinate", "a"), Op("advance", "a", local=[True, {"passed": False, "payload": "long"}])]
    ops += [Op("step_epoch", "a") for _ in range(4)]
    scenario = Scenario("big", 2, ["a", "b"], ops)
    result = ScenarioResult(scenario, [], 0.0)

    def accept(candidate: Scenario) -> ScenarioResult | None:
        keeps_defect = any(op.op == "advance" for op in candidate.ops)
        return ScenarioResult(candidate, [], 0.0) if keeps_defect else None

    small, small_result = shrink(scenario, result, accept)
    assert [op.op for op in small.ops] == ["advance"]
    assert small.ops[0].local is None and small.slots == ["a"] and small_result.scenario is small
    assert small.name == "big-shrunk"
    # Nothing smaller keeps the defect: the scenario comes back as it was, under its own name.
    same, same_result = shrink(scenario, result, lambda candidate: None)
    assert same == scenario and same.name == "big" and same_result.scenario is same


def _tracing_accept(keeps):
    tried: list[list[str | None]] = []

    def accept(candidate: Scenario) -> ScenarioResult | None:
        tried.append([op.slot for op in candidate.ops])
        return ScenarioResult(candidate, [], 0.0) if keeps(candidate) else None

    return accept, tried


def test_shrink_passes_keep_their_position_after_a_success(monkeypatch):
    monkeypatch.setattr(shrink_module, "PASSES", (shrink_module._drops,))
    ops = [Op("advance", "a"), Op("step_epoch", "a"), Op("step_epoch", "b")]
    scenario = Scenario("keep", 2, ["a", "b"], ops)

    def keeps(candidate: Scenario) -> bool:
        return [op.op for op in candidate.ops].count("advance") == 1 and any(op.slot == "b" for op in candidate.ops)

    accept, tried = _tracing_accept(keeps)
    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept)
    assert [(op.op, op.slot) for op in small.ops] == [("advance", "a"), ("step_epoch", "b")]
    # Round one: drop #2 (refused), drop #1 (kept), then the same position of the smaller scenario:
    # drop #0 (refused). Round two tries the two drops left, refused: no candidate is tried twice in a round.
    assert tried == [["a", "a"], ["a", "b"], ["b"], ["a"], ["b"]]


def test_shrink_budget_counts_candidate_runs_and_repeats_exactly():
    ops = [Op("germinate", "a")] + [Op("step_epoch", "a") for _ in range(6)] + [Op("advance", "a")]
    scenario = Scenario("budget", 2, ["a"], ops)
    runs = []
    for _ in range(2):
        accept, tried = _tracing_accept(lambda c: any(op.op == "advance" for op in c.ops))
        small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept, max_runs=3)
        runs.append((len(tried), small.to_dict()))
    assert runs[0] == runs[1] and runs[0][0] == 3
    assert [op["op"] for op in runs[0][1]["ops"]] == ["advance"]  # the ticks went as one call, then the germinate


def test_shrink_keeps_a_run_of_epoch_ticks_whole_and_cuts_after_it():
    """A cool-down cut to the reference's length would make evidence that a longer, legitimate embargo fails."""
    ticks = [Op("step_epoch", "a") for _ in range(42)]
    ops = [Op("germinate", "a"), Op("prune", "a"), *ticks, Op("germinate", "a", seed_id="again"), Op("advance", "a")]
    scenario = Scenario("cooldown", 1, ["a"], ops, process_group=False)
    shapes: list[tuple[int, int]] = []

    def accept(candidate: Scenario) -> ScenarioResult | None:
        shapes.append((len(candidate.ops), sum(op.op == "step_epoch" for op in candidate.ops)))
        return ScenarioResult(candidate, [], 0.0) if any(op.op == "prune" for op in candidate.ops) else None

    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept, violation_call=10)
    assert shapes[0] == (44, 42)  # the violation is at a tick: the first cut ends after the whole run
    assert {tick_count for _, tick_count in shapes} == {0, 42}, shapes
    assert [op.op for op in small.ops] == ["prune"]


def test_shrink_takes_away_ranks_deviations_after_calls():
    base = [Op("germinate", "a"), Op("advance", "a")]
    other = [Op("germinate", "a"), Op("advance", "a", target=4)]
    scenario = Scenario("deviations", 3, ["a"], base, rank_ops={1: other, 2: other})
    accept, _ = _tracing_accept(lambda c: bool(c.rank_ops))
    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept)
    assert list(small.rank_ops) == [2] and len(small.ops) == 1


def test_shrink_never_runs_a_candidate_that_cuts_a_forks_origin():
    ops = [Op("germinate", "a"), Op("resume", "twin", origin="a"), Op("advance", "twin")]
    scenario = Scenario("fork", 2, ["a", "twin"], ops)
    tried: list[Scenario] = []

    def accept(candidate: Scenario) -> ScenarioResult | None:
        tried.append(candidate)
        return ScenarioResult(candidate, [], 0.0) if any(op.origin for op in candidate.ops) else None

    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept)
    forks = [c for c in tried if any(op.origin for op in c.ops)]
    assert forks and all(op.origin in c.slots for c in forks for op in c.ops if op.origin)
    assert [op.op for op in small.ops] == ["resume"] and small.slots == ["a", "twin"]


def test_shrink_never_runs_a_candidate_that_is_the_scenario_itself():
    """A fault is already as plain as a decision gets: the decisions pass offers the same scenario back."""
    fault = {"fault": "kill"}
    scenario = Scenario("plain", 2, ["a"], [Op("germinate", "a"), Op("advance", "a", local=[fault, True])])
    tried: list[Scenario] = []

    def accept(candidate: Scenario) -> ScenarioResult | None:
        tried.append(candidate)
        return ScenarioResult(candidate, [], 0.0) if any(op.local for op in candidate.ops) else None

    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept)
    assert tried and scenario not in tried and len(tried) < 5
    assert [op.local for op in small.ops] == [[fault, True]]


def test_shrink_first_cuts_the_calls_after_the_violations_call():
    ops = [Op("germinate", "a"), Op("advance", "a"), *[Op("prune", "a") for _ in range(8)]]
    scenario = Scenario("late", 2, ["a"], ops)
    found = []
    for violation_call in (1, None):
        accept, tried = _tracing_accept(lambda c: any(op.op == "advance" for op in c.ops))
        small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept, violation_call=violation_call)
        found.append((len(tried), [op.op for op in small.ops]))
        if violation_call is not None:
            assert tried[0] == ["a", "a"]  # the germinate and the advance: what a rank did later cannot matter
    (cut_runs, cut_small), (plain_runs, plain_small) = found
    assert cut_small == plain_small == ["advance"] and cut_runs < plain_runs


def test_a_violation_that_stays_at_the_end_shrinks_in_a_few_runs_not_one_per_call():
    """A rank left waiting in its last collective hangs at whatever call ends the scenario: halving the
    tail finds the calls that matter in about two runs per halving, where dropping calls one by one took
    a run per call."""
    ops = [Op("germinate", "a"), Op("advance", "a"), *[Op("prune", "a") for _ in range(64)]]
    scenario = Scenario("hangs-last", 2, ["a"], ops)
    accept, tried = _tracing_accept(lambda c: len(c.ops) >= 2 and c.ops[1].op == "advance")
    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept)
    assert [op.op for op in small.ops] == ["germinate", "advance"]
    assert len(tried) <= 16, len(tried)


def test_the_first_cut_tries_the_violations_slot_alone_then_every_slot():
    ops = [Op("germinate", "a"), Op("germinate", "b"), Op("advance", "a"), Op("advance", "b"), Op("prune", "b")]
    scenario = Scenario("two", 2, ["a", "b"], ops)
    for needs_a, second in ((False, None), (True, ["a", "b", "a", "b"])):

        def keeps(candidate: Scenario, needs_a: bool = needs_a) -> bool:
            advanced = {op.slot for op in candidate.ops if op.op == "advance"}
            return "b" in advanced and ("a" in advanced or not needs_a)

        accept, tried = _tracing_accept(keeps)
        shrink(scenario, ScenarioResult(scenario, [], 0.0), accept, violation_call=3)
        assert tried[0] == ["b", "b"], tried  # the violation's slot alone, cut after its call
        if second is not None:
            assert tried[1] == second, tried  # that lost it: every slot, cut after the call


def test_every_step_is_followed_by_a_cut_at_the_call_the_violation_is_then_about():
    ops = [Op("germinate", "b"), Op("germinate", "a"), Op("advance", "a"), *[Op("prune", "a") for _ in range(6)]]
    scenario = Scenario("moves", 2, ["a", "b"], ops)
    accept, tried = _tracing_accept(lambda c: any(op.op == "advance" for op in c.ops))

    def locate(result: ScenarioResult) -> int | None:
        return next(i for i, op in enumerate(result.scenario.ops) if op.op == "advance")

    small, _ = shrink(scenario, ScenarioResult(scenario, [], 0.0), accept, locate=locate)
    assert tried[1:3] == [["a"] * 8, ["a", "a"]], tried  # slot a alone kept it: cut after its advance at once
    assert [op.op for op in small.ops] == ["advance"]


def test_a_shrink_candidate_runs_once_per_implementation_whatever_its_name():
    class Counting:
        def __init__(self) -> None:
            self.runs: list[tuple[str, str]] = []

        def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
            self.runs.append((impl, scenario.name))
            return ScenarioResult(scenario, [], 0.0)

    pool = Counting()
    runner = ClauseRunner(Implementation("x:Adapter", "x", "1", frozenset({"scripted_gates"})), pool)
    ops = [Op("germinate", "a"), Op("advance", "a")]
    for name, impl in (("first", "x:Adapter"), ("second", "x:Adapter"), ("first", "y:Adapter")):
        runner._run_fresh(impl, Scenario(name, 1, ["a"], ops))
    runner._run_fresh("x:Adapter", Scenario("first", 1, ["a"], ops[:1]))
    runner._run_fresh("x:Adapter", Scenario("first", 1, ["a"], ops, decide=lambda query: True))
    assert pool.runs == [("x:Adapter", "first"), ("y:Adapter", "first"), ("x:Adapter", "first"), ("x:Adapter", "first")]


def _after_dead_peer(survivor: CallRecord, dead_rank: int = 0) -> ScenarioResult:
    """A world of 2 whose rank `dead_rank` was killed in the gate round; the survivor reports `survivor`."""
    scenario = propagation.scenario(2, "kill", dead_rank)
    germinated = CallRecord(0, "germinate", propagation.SLOT, None, stage_after=1)
    dead = RankOutcome(dead_rank, RankStatus.KILLED, records=[germinated], signal="SIGKILL")
    alive = RankOutcome(1 - dead_rank, RankStatus.RAISED, records=[germinated, survivor])
    outcomes = sorted([dead, alive], key=lambda o: o.rank)
    if dead_rank == 1:
        alive.records[1].local = [default_fields(0, 1, 2, False)]
    return ScenarioResult(scenario, outcomes, 0.1)


def _error(kind: str, message: str, module: str = "builtins") -> dict:
    return {"type": kind, "qualname": f"{module}.{kind}", "message": message, "traceback": "", "in_collective": True}


@pytest.mark.parametrize(
    ("survivor", "c9", "s5"),
    [
        (
            dict(error=_error("SyncError", "slot 'propagation_slot' (->TRAINING) failed", "mypkg")),
            set(),
            set(),
        ),
        (dict(error=_error("KeyError", "Propagation_Slot: no decision for training", "mypkg")), set(), set()),
        (dict(error=_error("RuntimeError", "Connection closed by peer")), set(), {"unnamed"}),
        (dict(error=_error("AttributeError", "no attribute 'failed_rank'")), {"error_path_crash"}, {"unnamed"}),
        (dict(error=_error("RuntimeError", "closed"), stage_after=2), {"applied_on_error"}, {"unnamed"}),
        (dict(result=default_fields(1, 1, 2, True), stage_after=2), {"applied_local"}, set()),
    ],
)
def test_a_survivor_of_a_dead_rank_0_ends_its_call_with_an_error_naming_it(survivor, c9, s5):
    record = CallRecord(1, "advance", propagation.SLOT, None, stage_before=1, **{"stage_after": 1, **survivor})
    result = _after_dead_peer(record)
    assert propagation.propagation(result).kinds == c9
    assert propagation.failure_report(result).kinds == s5


def test_a_failure_report_names_what_its_error_left_out_and_why_it_belongs_there():
    def reason(message: str) -> str:
        record = CallRecord(1, "advance", propagation.SLOT, None, stage_before=1, stage_after=1)
        record.error = _error("SyncError", message, "mypkg")
        return str(propagation.failure_report(_after_dead_peer(record)).violations[0])

    assert "its error does not name TRAINING (the stage the call was to reach): " in reason("'propagation_slot' failed")
    assert "does not name the slot 'propagation_slot' or TRAINING (the stage the call was to reach)" in reason("closed")


def test_a_survivor_that_never_reports_waits_and_rank_0_may_keep_its_own_decision():
    waiting = _after_dead_peer(CallRecord(1, "advance", propagation.SLOT, None))
    waiting.outcomes[1].records.pop()
    waiting.outcomes[1].status = RankStatus.HUNG
    assert propagation.propagation(waiting).kinds == {"waits"}
    waiting.outcomes[1].stack = (  # the line it was still in names what a user would fix
        'Current thread 0x1 (most recent call first):\n  File "/opt/mypkg/slot.py", line 220 in _sync\n'
        f'  File "{os.path.dirname(harness.__file__)}/rankside/rank.py", line 74 in rank_main\n'
    )
    waits = str(propagation.propagation(waiting).violations[0])
    assert "never ended; it was still in the call at /opt/mypkg/slot.py:220 in _sync when the harness gave up" in waits
    own = CallRecord(1, "advance", propagation.SLOT, None, stage_before=1, stage_after=1)
    own.result = default_fields(0, 1, 2, False)
    assert not propagation.propagation(_after_dead_peer(own, dead_rank=1)).violations
    own.result = default_fields(0, 1, 2, True)
    assert propagation.propagation(_after_dead_peer(own, dead_rank=1)).kinds == {"applied_local"}
    own.result, own.stage_after = default_fields(0, 1, 2, False), 2
    assert propagation.propagation(_after_dead_peer(own, dead_rank=1)).kinds == {"applied_local"}


def test_a_survivor_whose_process_ends_too_fails_and_a_survivor_short_of_the_round_is_unjudged():
    died = _after_dead_peer(CallRecord(1, "advance", propagation.SLOT, None))
    died.outcomes[1].records.pop()
    died.outcomes[1].status, died.outcomes[1].exitcode = RankStatus.EXITED, 3
    judgement = propagation.propagation(died)
    assert judgement.kinds == {"died"} and "exit code 3" in str(judgement.violations[0])
    died.outcomes[1].records.clear()
    judgement = propagation.propagation(died)
    assert (judgement.judged, judgement.unjudged, judgement.violations) == (0, 1, [])


def _decided_by_rank0(scenario: Scenario) -> ScenarioResult:
    """A world of 2 where the scenario's faulting rank was killed in the round and the survivor returned
    rank 0's decision (passed=False, the slot left GERMINATED)."""
    dead = propagation.fault_of(scenario).rank
    germinated = CallRecord(0, "germinate", propagation.SLOT, None, stage_after=1)
    survivor = CallRecord(1, "advance", propagation.SLOT, None, stage_before=1, stage_after=1)
    survivor.result = default_fields(0, 1, 2, False)
    if dead == 1:
        survivor.local = [default_fields(0, 1, 2, False)]
    outcomes = [
        RankOutcome(dead, RankStatus.KILLED, records=[germinated], signal="SIGKILL"),
        RankOutcome(1 - dead, RankStatus.OK, records=[germinated, survivor]),
    ]
    return ScenarioResult(scenario, sorted(outcomes, key=lambda o: o.rank), 0.1)


def test_a_failure_report_with_no_survivor_error_to_read_is_not_exercised_not_passed():
    returned = _decided_by_rank0(propagation.scenario(2, "kill", 1))
    verdict = judge_scenario(BY_ID["S5"], returned)
    assert verdict.status == ClauseStatus.NOT_EXERCISED and verdict.judged == 1 and not verdict.violations
    assert "every survivor returned rank 0's decision, so no error message was there to judge" in verdict.reason
    raised = _after_dead_peer(
        CallRecord(1, "advance", propagation.SLOT, None, stage_before=1, stage_after=1, error=_error("E", "closed"))
    )
    assert judge_scenario(BY_ID["S5"], raised).status == ClauseStatus.FAIL
    assert judge_scenario(BY_ID["C9"], returned).status == ClauseStatus.PASS


class _Canned:
    """An executor whose every propagation scenario ends with the survivor returning rank 0's decision."""

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
        return _decided_by_rank0(scenario)


def test_a_clause_with_no_scenario_at_the_world_sizes_asked_names_the_size_it_needs():
    implementation = Implementation("x:Adapter", "x", "1", frozenset({"scripted_gates"}))
    outcome = ClauseRunner(implementation, _Canned()).evaluate(BY_ID["C9"], [1])
    assert outcome.status == ClauseStatus.ERROR and outcome.scenarios == 0
    assert outcome.reason == (
        "no scenario checks this clause at world sizes [1]: it needs a world of 2 or more ranks;"
        " certify with world size 2 among them"
    )


def test_a_clause_none_of_whose_scenarios_exercised_it_neither_certifies_nor_fails():
    implementation = Implementation("x:Adapter", "x", "1", frozenset({"scripted_gates"}))
    runner = ClauseRunner(implementation, _Canned())
    outcome = runner.evaluate(BY_ID["S5"], [2])
    assert outcome.status == ClauseStatus.NOT_EXERCISED and outcome.scenarios == 3, outcome.reason
    # each cause once, with the scenarios it held in: rank 0's death leaves the survivor no decision to return
    assert outcome.reason == (
        "none of its 3 scenarios exercised it: in propagation-raise-rank1-ws2, propagation-kill-rank1-ws2: no"
        " survivor's call raised: every survivor returned rank 0's decision, so no error message was there to"
        " judge; in propagation-exit-rank0-ws2: no survivor's call raised (1 returned a decision rank 0 did not"
        " make; the failure propagation clause judges those), so no error message was there to judge"
    )
    passed = ClauseOutcome(BY_ID["C9"], ClauseStatus.PASS, scenarios=3, judged=3)
    assert verdict([outcome, passed], interrupted=False) == Verdict.CERTIFIED
    assert verdict([outcome], interrupted=False) == Verdict.INCONCLUSIVE


class _ShortOfTheRound:
    """An executor whose every propagation scenario ends with the survivor dead before the round: its call
    cannot be judged."""

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
        result = _decided_by_rank0(scenario)
        survivor = next(o for o in result.outcomes if o.status == RankStatus.OK)
        survivor.records.clear()
        survivor.status, survivor.exitcode = RankStatus.EXITED, 3
        return result


class _Counted:
    """An executor that runs `inner` and counts which scenarios it ran."""

    def __init__(self, inner) -> None:
        self.inner, self.runs = inner, []

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
        self.runs.append(scenario.name)
        return self.inner.run(impl, scenario)


@pytest.mark.parametrize(("alone", "reproduces"), [(_ShortOfTheRound(), True), (_Canned(), False), (None, None)])
def test_incomplete_evidence_says_whether_it_stays_incomplete_in_a_world_of_its_own(alone, reproduces):
    """An implementation that keeps state across scenarios may leave calls unjudged only after others ran:
    the evidence says so, as a failure's does, so that a replay that judges every call is no surprise."""
    implementation = Implementation("x:Adapter", "x", "1", frozenset({"scripted_gates"}))
    counted = None if alone is None else _Counted(alone)
    runner = ClauseRunner(implementation, _ShortOfTheRound(), alone=counted)
    outcomes = [runner.evaluate(BY_ID[clause], [2]) for clause in ("C9", "S5")]
    for outcome in outcomes:
        assert outcome.status == ClauseStatus.INCOMPLETE, outcome.reason
        assert outcome.evidence["reproduces_alone"] is reproduces
    if counted is not None:  # one run in a world of its own answers both clauses
        assert counted.runs == [outcomes[0].evidence["scenario"]["name"]]


def test_a_rank_that_could_not_set_up_is_reported_with_the_line_that_raised():
    traceback_text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/harness/rankside/rank.py", line 20, in run\n'
        '  File "/home/user/myimpl/adapter.py", line 7, in __init__\n'
        "RuntimeError: no device\n"
    )
    error = {"type": "RuntimeError", "qualname": "RuntimeError", "message": "no device"}
    error |= {"traceback": traceback_text, "in_collective": False}
    scenario = Scenario("setup", 1, ["a"], [Op("germinate", "a")], process_group=False)
    result = ScenarioResult(scenario, [RankOutcome(rank=0, status=RankStatus.RAISED, error=error)], 0.1)
    assert unusable(result) == (
        "rank 0 could not set up: RuntimeError: no device (at /home/user/myimpl/adapter.py:7 in __init__)"
    )
