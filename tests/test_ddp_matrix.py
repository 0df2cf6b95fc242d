"""The certificate's DDP configuration table blames a configuration only for what the module did under it."""

from __future__ import annotations

from harness.records.contract import Stage
from harness.records.ddp_configs import CONFIGS, FIND_UNUSED
from harness.records.messages import TRAINED, CallRecord, ModelStep
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import Op, Scenario
from harness.records.statuses import ClauseStatus, RankStatus
from harness.spec.clauses import BY_ID
from harness.spec.judge.judging import judge_scenario
from harness.spec.output import ddp_matrix


def _result(name: str, stages_after: list[int | None], digests: list[str]) -> ScenarioResult:
    """A two-rank model scenario whose one advance leaves each rank in `stages_after[rank]` with a module
    digest `digests[rank]`."""
    op = Op("advance", "a")
    scenario = Scenario(name, 2, ["a"], [op], model=True, ddp=FIND_UNUSED)
    outcomes = []
    for rank in range(2):
        step = ModelStep(TRAINED, "ddp", built=True, digests={"w": digests[rank]}, heads={"w": [float(rank)]})
        record = CallRecord(
            0, "advance", "a", int(Stage.TRAINING), stage_before=2, stage_after=stages_after[rank],
            snapshot={"stage": stages_after[rank]}, model=step.to_record(),
        )  # fmt: skip
        outcomes.append(RankOutcome(rank=rank, status=RankStatus.OK, records=[record]))
    return ScenarioResult(scenario, outcomes, 0.1)


def test_modules_that_differ_because_the_lifecycle_diverged_do_not_fail_the_configuration():
    diverged = _result("split", [int(Stage.TRAINING), int(Stage.GERMINATED)], ["x", "y"])
    row = ddp_matrix.summarize([diverged], tuple(CONFIGS))[FIND_UNUSED]
    assert row["status"] == ddp_matrix.NOT_JUDGED and row["scenarios"] == 1
    assert "lifecycles diverged, which C1 reports" in row["problem"]
    assert "rank 0 TRAINING, rank 1 GERMINATED" in row["problem"]


def test_modules_that_differ_in_the_same_stage_fail_the_configuration():
    same = int(Stage.TRAINING)
    differ = _result("differ", [same, same], ["x", "y"])
    alike = _result("alike", [same, same], ["x", "x"])
    assert ddp_matrix.summarize([alike], tuple(CONFIGS))[FIND_UNUSED]["status"] == ddp_matrix.TRAINS
    row = ddp_matrix.summarize([alike, differ], tuple(CONFIGS))[FIND_UNUSED]
    assert row["status"] == ddp_matrix.FAILS and row["problem"].startswith("differ: ")


def test_the_table_tells_a_diverged_lifecycle_exactly_where_agreement_finds_one():
    """One fact, one source: a call the table blames on the lifecycle is one C1 fails, and no other, even
    where a rank's slot was emptied (no stage) or a snapshot carries no stage."""
    training, germinated = int(Stage.TRAINING), int(Stage.GERMINATED)
    emptied = _result("emptied", [None, training], ["x", "y"])
    unsnapped = _result("unsnapped", [training, germinated], ["x", "y"])
    for outcome in unsnapped.outcomes:
        outcome.records[0].snapshot = {}
    same = _result("same", [training, training], ["x", "y"])
    for result in (emptied, unsnapped, same):
        row = ddp_matrix.summarize([result], tuple(CONFIGS))[FIND_UNUSED]
        c1 = judge_scenario(BY_ID["C1"], result)
        assert (row["status"] == ddp_matrix.NOT_JUDGED) == (c1.status == ClauseStatus.FAIL), (result.scenario.name, row)
        if c1.status == ClauseStatus.FAIL:
            assert c1.reason in row["problem"], (c1.reason, row["problem"])


def test_a_scenario_whose_calls_were_not_all_judged_does_not_show_the_configuration_training():
    """A rank hung before it reported its call: the module was never seen in that stage, so the scenario
    cannot say that the configuration trains in every stage."""
    same = int(Stage.TRAINING)
    hung = _result("hung", [same, same], ["x", "x"])
    hung.outcomes[1].records.clear()
    hung.outcomes[1].status = RankStatus.HUNG
    row = ddp_matrix.summarize([hung], tuple(CONFIGS))[FIND_UNUSED]
    assert row["status"] == ddp_matrix.NOT_JUDGED, row
    assert "calls were never judged, which D1 reports (first: hung: 1 of 1 calls)" in row["problem"], row
    alike = _result("alike", [same, same], ["x", "x"])
    row = ddp_matrix.summarize([alike, hung], tuple(CONFIGS))[FIND_UNUSED]
    assert row["status"] == ddp_matrix.TRAINS and row["problem"].startswith("1 of 2 scenarios unjudged: "), row
