"""Collective fingerprints, S4's words for where ranks part, and the timeline drawn from a history:
all on records, without a world."""

from __future__ import annotations

import torch

from harness.rankside.collectives import CollectiveMonitor
from harness.records.fingerprints import describe, fingerprint, key, parting_words, with_payload
from harness.records.messages import CallRecord
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import Op, Scenario
from harness.records.statuses import RankStatus
from harness.spec.judge import checks
from harness.spec.judge.checks import Violation
from harness.spec.output.timeline import history
from harness.spec.output.timeline_html import scenario_page, to_html

FRAME = fingerprint("broadcast", 0, {"tensor": torch.zeros(512, dtype=torch.uint8), "src": 0})


def entry(op: str = "broadcast", tensor: torch.Tensor | None = None, **arguments) -> dict:
    given = torch.zeros(512, dtype=torch.uint8) if tensor is None else tensor
    found = fingerprint(op, 0, {"tensor": given, **arguments})
    found["returned"] = True
    return found


def test_a_fingerprint_names_op_source_sizes_and_dtypes():
    assert describe(entry(src=0)) == "broadcast(src=0, [512] uint8)"
    assert describe(entry("all_reduce", torch.zeros(2, 3, dtype=torch.int64))) == "all_reduce([2, 3] int64)"
    assert describe(FRAME) == "broadcast(src=0, [512] uint8) (raised)"


def test_an_object_broadcast_is_compared_by_payload_a_gather_is_not():
    objects = {"object_list": [{"passed": True}], "src": 0}
    small, large = fingerprint("broadcast_object_list", 0, objects), fingerprint("broadcast_object_list", 0, objects)
    with_payload(small, objects)
    with_payload(large, {"object_list": [{"passed": True, "message": "x" * 100}]})
    assert small["payload"] and large["payload"] > small["payload"]
    assert key(small) != key(large) and "bytes pickled" in describe(small)
    mine, theirs = fingerprint("all_gather_object", 0, {}), fingerprint("all_gather_object", 0, {})
    with_payload(mine, {"obj": "a"})
    with_payload(theirs, {"obj": "a much longer contribution"})
    assert key(mine) == key(theirs)


def test_parting_words_name_both_collectives():
    words = parting_words({0: [entry(src=0)], 1: [entry(tensor=torch.zeros(128, dtype=torch.int32), src=0)]})
    assert words == "rank 1 entered broadcast(src=0, [128] int32) where rank 0 entered broadcast(src=0, [512] uint8)"
    later = parting_words({0: [entry(src=0), entry(src=0)], 1: [entry(src=0)]})
    assert later == (
        "at collective #2 of the call, rank 1 entered no further collective where rank 0 entered"
        " broadcast(src=0, [512] uint8)"
    )
    assert parting_words({0: [entry(src=0)], 1: [entry(src=0)]}) is None


def test_the_monitor_records_each_outermost_collective_in_order():
    monitor = CollectiveMonitor([0, 0], 0)

    def broadcast(tensor, src, group=None):
        return None

    wrapped = monitor._wrap("broadcast", broadcast)
    wrapped(torch.zeros(4), 0)
    wrapped(torch.zeros(2, dtype=torch.int64), src=0)
    entered, overhead = monitor.take_fingerprints()
    assert [describe(e) for e in entered] == ["broadcast(src=0, [4] float32)", "broadcast(src=0, [2] int64)"]
    assert [e["seq"] for e in entered] == [0, 1] and overhead >= 0
    assert monitor.take_fingerprints() == ([], 0.0) and monitor.take_counts() == {"broadcast": 2}


def _result(entered: list[list[dict]], statuses: list[str] | None = None) -> ScenarioResult:
    ops = [Op("germinate", "a"), Op("advance", "a")]
    scenario = Scenario("parted", len(entered), ["a"], ops)
    outcomes = []
    for rank, mine in enumerate(entered):
        records = [CallRecord(index=0, op="germinate", slot="a", target=None, stage_after=2)]
        status = statuses[rank] if statuses else RankStatus.OK
        if status == RankStatus.OK:
            local = {"passed": rank == 0}
            records.append(
                CallRecord(1, "advance", "a", None, stage_after=3, local=[local], result={"passed": True}, entered=mine)
            )
        outcomes.append(RankOutcome(rank=rank, status=status, records=records))
    return ScenarioResult(scenario, outcomes, 1.0)


def test_s4_names_the_collective_each_rank_entered_where_they_part():
    result = _result([[entry(src=0)], [entry("all_reduce", torch.zeros(1, dtype=torch.int64))]])
    judgement = checks.collective_symmetry(result)
    assert [v.text for v in judgement.violations] == [
        "call #1 advance 'a': rank 1 entered all_reduce([1] int64) where rank 0 entered broadcast(src=0, [512] uint8)"
    ]


def test_s4_names_a_rank_stuck_in_a_collective_its_peer_never_entered():
    result = _result([[], []], [RankStatus.HUNG, RankStatus.OK])
    (violation,) = checks.collective_symmetry(result).violations
    assert "rank 0 is stuck in a collective that rank 1 never entered" in violation.text
    assert "{" not in violation.text


def test_the_timeline_marks_the_parting_call_and_links_violations_to_cells():
    result = _result([[entry(src=0)], [entry(tensor=torch.zeros(128, dtype=torch.int32), src=0)]])
    violations = checks.collective_symmetry(result).violations
    drawn = history(result, violations)
    assert drawn["parting"] == 1 and drawn["marked"] == 1
    assert drawn["calls"][1]["cells"][1]["entered"][0]["tensors"] == ["[128] int32"]
    page = scenario_page("parted", drawn, violations[0].text)
    assert "<th id='s0-c1' class='parted'><span class='mark'>▼ ranks part here</span>" in page
    assert "href='#s0-c1-r1'" in page and "id='s0-c1-r1'" in page
    assert "broadcast(src=0, [128] int32)" in page and "local fail · rank 0 pass" in page
    assert "<script" not in page and "http" not in page


def test_a_stuck_rank_is_drawn_stuck_and_the_page_states_its_size():
    result = _result([[], []], [RankStatus.HUNG, RankStatus.OK])
    result.deadlock = True
    drawn = history(result, [Violation("collectives_differ", "rank 0 is stuck", 1)])
    assert drawn["calls"][1]["cells"][0] == {"state": "stuck_in_collective"} and drawn["parting"] == 1
    clause = {"id": "S4", "title": "Collective symmetry", "status": "fail", "reason": "rank 0 is stuck"}
    certificate = {
        "implementation": {"name": "x", "version": "1"},
        "verdict": "not_certified",
        "clauses": [clause | {"evidence": {"history": drawn, "scenario_name": "parted", "world_size": 2}}],
    }
    page = to_html(certificate)
    assert "STUCK in a collective" in page and "1 timeline, " in page and "characters in all" in page
