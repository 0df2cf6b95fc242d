"""Each rank's local gate result, from what a scenario says about it.

Defaults differ per rank and per call (score, checks, message), so a result that reaches another rank
can be traced back to the rank and call that produced it: that is how the suite tells rank 0's whole
decision from a rank's own, or from a decision made for another call.

A scenario names a payload (`{"passed": true, "payload": "long"}`) rather than spelling it out, so a
saved scenario stays small while the result it stands for may carry a 64 KiB message, hundreds of
checks or an infinite score; a generated payload (`harness.records.payloads`, e.g. `bytes:7:4097`) draws every
field from a seed. Every payload keeps the result unique to its rank and call.
"""

from __future__ import annotations

from ..errors import ScenarioError
from . import payloads
from .contract import GATE_LEVEL, Stage
from .scenario import GateQuery, Op, Scenario, per_rank


def default_fields(rank: int, call: int, target: int, passed: bool) -> dict:
    tag = payloads.tag(rank, call)
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
    if scenario.decide is not None:
        value = scenario.decide(GateQuery(rank=rank, call=call, slot=op.slot or "", target=target))
    else:
        value = per_rank(op.local, rank)
    if value is None:
        return default_fields(rank, call, target, True)
    if isinstance(value, bool):
        return default_fields(rank, call, target, value)
    if isinstance(value, dict):
        if "fault" in value:
            return value
        explicit = {k: v for k, v in value.items() if k != "payload"}
        base = default_fields(rank, call, target, bool(value.get("passed", True)))
        payload = value.get("payload", "plain")
        generated = payloads.parse(payload) if isinstance(payload, str) else None
        if generated is not None:
            return {**payloads.generated(base, rank, call, *generated), **explicit}
        if payload not in payloads.NAMED:
            raise ScenarioError(
                f"rank {rank} call {call}: unknown payload {payload!r} (known: {', '.join(payloads.NAMED)})"
            )
        return {**payloads.NAMED[payload](base, rank, call), **explicit}
    raise ScenarioError(f"rank {rank} call {call}: a gate decision must be a bool or a dict, got {value!r}")
