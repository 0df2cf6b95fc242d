"""Each rank's local gate result, from what a scenario says about it.

Defaults differ per rank and per call (score, checks, message), so a result that reaches another rank
can be traced back to the rank and call that produced it: that is how the suite tells rank 0's whole
decision from a rank's own, or from a decision made for another call.
"""

from __future__ import annotations

from harness.contract import GATE_LEVEL, Stage
from harness.scenario import GateQuery, Op, Scenario, ScenarioError, per_rank


def default_fields(rank: int, call: int, target: int, passed: bool) -> dict:
    tag = f"r{rank}c{call}"
    return {
        "gate": GATE_LEVEL.get(Stage(target), 0),
        "passed": passed,
        "score": min(1.0, round(0.1 + 0.1 * rank + 0.001 * call, 6)),
        "checks_passed": [f"{tag}_check"] if passed else [],
        "checks_failed": [] if passed else [f"{tag}_check"],
        "message": f"rank {rank} call {call}: {'pass' if passed else 'fail'}",
    }


def local_decision(scenario: Scenario, op: Op, rank: int, call: int, target: int) -> dict:
    """The gate-result fields rank `rank` evaluates locally, or a `{"fault": ...}` to run instead."""
    if scenario.gate is not None:
        value = scenario.gate(GateQuery(rank=rank, call=call, slot=op.slot or "", target=target))
    else:
        value = per_rank(op.local, rank)
    if value is None:
        return default_fields(rank, call, target, True)
    if isinstance(value, bool):
        return default_fields(rank, call, target, value)
    if isinstance(value, dict):
        if "fault" in value:
            return value
        return {**default_fields(rank, call, target, bool(value.get("passed", True))), **value}
    raise ScenarioError(f"rank {rank} call {call}: a gate decision must be a bool or a dict, got {value!r}")
