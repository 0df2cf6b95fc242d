"""The generated misalignments: every case parts the ranks at a call every rank makes, that call ends
every rank's sequence, and the clauses' own disagreement index finds the same call."""

from __future__ import annotations

import pytest

from harness.records.messages import CallRecord
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.statuses import RankStatus
from harness.spec.judge import checks
from harness.spec.output import coverage
from harness.spec.scenarios import misalign


def _all(world_size: int) -> list:
    return misalign.s1(world_size) + misalign.s2(world_size, prune=True)


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_every_case_parts_the_ranks_at_their_last_call(world_size):
    scenarios = _all(world_size)
    assert len({s.name for s in scenarios}) == len(scenarios)
    for scenario in scenarios:
        scenario.validate()
        result = ScenarioResult(scenario, [RankOutcome(rank=r) for r in range(world_size)], 0.0)
        parting = checks._disagreement_index(result, list(checks.calls(result)))
        lengths = {len(scenario.ops_for(r)) for r in range(world_size)}
        assert parting is not None and lengths == {parting + 1}, scenario.name
        assert {scenario.ops_for(r)[parting].op for r in range(world_size)} == {"advance"}, scenario.name


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_every_kind_is_generated_at_every_position_it_can_take(world_size):
    positions: dict[str, set[int]] = {}
    for scenario in _all(world_size):
        kinds, position = misalign.kinds_and_position(scenario.name)
        for kind in kinds:
            positions.setdefault(kind, set()).add(position)
    last = misalign.BASE_LENGTH - 1
    assert positions["insert"] == positions["target"] == positions["slot"] == set(range(misalign.BASE_LENGTH))
    # A dropped last call, or a swap past the end, leaves a rank with one call fewer at the end only.
    assert positions["drop"] == positions["swap"] == set(range(last))
    assert positions["no_seed"] == positions["pruned"] == {0, 1}


def test_the_reference_sequences_without_prune_have_no_pruned_case():
    assert all("pruned" not in s.name for s in misalign.s2(2, prune=False))


def test_misalignment_coverage_counts_judged_cases_only():
    scenario = misalign.s1(2)[0]
    parting = len(scenario.ops) - 1

    def result(status: str, reported: int) -> ScenarioResult:
        setup = list(enumerate(scenario.ops[:reported]))
        # Ranks still in the parting call (judged: no rank raised there) or killed before it (unjudged).
        outcomes = [
            RankOutcome(rank=r, status=status, records=[CallRecord(i, op.op, op.slot, op.target) for i, op in setup])
            for r in range(2)
        ]
        return ScenarioResult(scenario, outcomes, 0.0)

    judged, unjudged = result(RankStatus.HUNG, parting), result(RankStatus.KILLED, 0)
    kinds, position = misalign.kinds_and_position(scenario.name)
    assert coverage.misalignments([unjudged]) == {}
    table = coverage.misalignments([judged])
    assert table == {"2": {kind: {"positions": [position], "cases": 1} for kind in kinds}}
    assert coverage.misalignment_markdown(table)[0] == "## Misalignment coverage"
