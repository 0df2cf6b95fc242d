"""The rules that decide which scenarios a launcher's world skips: exactly those that can strand a rank,
and those that end a rank's process on purpose."""

from __future__ import annotations

import pytest

from harness.rankside.adapter import CAPABILITIES
from harness.records.scenario import Op, Scenario
from harness.records.stranding import may_strand_a_rank
from harness.spec.clauses import REGISTRY, Plan

SETUP = [Op("germinate", "a"), Op("germinate", "b")]


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_only_the_scenarios_with_calls_after_the_disagreement_strand_a_rank(world_size: int) -> None:
    plan = Plan(world_size, (world_size,), 0, 4, frozenset(CAPABILITIES))
    scenarios = {s.name: s for clause in REGISTRY for s in clause.scenarios(plan)}
    stranding = {name for name, s in scenarios.items() if may_strand_a_rank(s)}
    # A seed germinated on some ranks only, with a round on another slot between it and its own round
    misaligned = {name for name in stranding if name.startswith("misalign-no_seed-p1-")}
    assert len(misaligned) == 1
    assert stranding - misaligned == {f"swapped-order-ws{world_size}", f"no-seed-then-more-calls-ws{world_size}"}


@pytest.mark.parametrize(
    ("rank1_ops", "strands"),
    [
        ([*SETUP, Op("advance", "a")], False),
        ([*SETUP, Op("advance", "b")], False),
        ([*SETUP, Op("advance", "b"), Op("step_epoch", "a")], True),
        ([*SETUP, Op("prune", "a"), Op("advance", "a")], False),
        ([*SETUP, Op("prune", "a"), Op("advance", "a"), Op("advance", "a")], True),
        ([*SETUP, Op("advance", "a", ranks=[0])], True),
        ([*SETUP, Op("step_epoch", "a")], True),
        (SETUP, True),
    ],
)
def test_a_rank_with_a_round_its_peers_do_not_join_can_be_stranded(rank1_ops: list[Op], strands: bool) -> None:
    scenario = Scenario("s", 2, ["a", "b"], [*SETUP, Op("advance", "a")], rank_ops={1: rank1_ops})
    assert may_strand_a_rank(scenario) is strands


@pytest.mark.parametrize("world_size", [2, 3])
def test_only_the_propagation_scenarios_end_a_rank_process(world_size: int) -> None:
    plan = Plan(world_size, (world_size,), 0, 4, frozenset(CAPABILITIES))
    scenarios = {s.name: s for clause in REGISTRY for s in clause.scenarios(plan)}
    ending = {name for name, s in scenarios.items() if s.ends_a_process()}
    assert ending == {name for name in scenarios if name.startswith("propagation-")} and len(ending) == 3


@pytest.mark.parametrize(
    ("op", "ends"),
    [
        (Op("fault", fault={"kind": "exit"}, ranks=[1]), True),
        (Op("fault", fault={"kind": "exit"}, ranks=[]), False),
        (Op("fault", fault={"kind": "raise"}), False),
        (Op("advance", "a", local=[True, {"fault": "kill"}]), True),
        (Op("advance", "a", local={"fault": "sleep", "seconds": 1}), False),
    ],
)
def test_a_fault_that_exits_or_kills_a_rank_ends_its_process(op: Op, ends: bool) -> None:
    assert Scenario("s", 2, ["a"], [Op("germinate", "a"), op]).ends_a_process() is ends
