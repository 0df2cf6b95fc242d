"""The certificate's DDP configuration table blames a configuration only for what the module did under it."""

from __future__ import annotations

from harness.records.contract import Stage
from harness.records.ddp_configs import CONFIGS, FIND_UNUSED
from harness.records.messages import TRAINED, CallRecord, ModelStep
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import Op, Scenario
from harness.records.statuses import RankStatus
from harness.spec.output import ddp_matrix


def _result(name: str, stages_after: list[int], digests: list[str]) -> ScenarioResult:
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
