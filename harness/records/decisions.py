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

from collections.abc import Callable

from ..errors import ScenarioError
from . import payloads
from .contract import GATE_LEVEL, Stage
from .scenario import GateQuery, Op, Scenario, per_rank

LONG_MESSAGE_CHARS = 64 * 1024 + 100
MANY_CHECKS = 300
SPECIAL_SCORES = (0.0, -0.0, 1.0, 5e-324, 1e-300, 1e308, float("inf"), float("nan"))
SMALLEST_SUBNORMAL = 5e-324
UNICODE_TEXT = "é ü ß 漢字 🚀 שלום\nsecond line\ttab\r\nnul:\x00 end"


def _tag(rank: int, call: int) -> str:
    return f"r{rank}c{call}"


def default_fields(rank: int, call: int, target: int, passed: bool) -> dict:
    tag = _tag(rank, call)
    return {
        "gate": GATE_LEVEL.get(Stage(target), 0),
        "passed": passed,
        "score": min(1.0, round(0.1 + 0.1 * rank + 0.001 * call, 6)),
        "checks_passed": [f"{tag}_check"] if passed else [],
        "checks_failed": [] if passed else [f"{tag}_check"],
        "message": f"rank {rank} call {call}: {'pass' if passed else 'fail'}",
    }


def _empty(fields: dict, rank: int, call: int) -> dict:
    """No message, no checks: only the score, a distinct subnormal, tells the result apart."""
    unique = SMALLEST_SUBNORMAL * (1 + rank + 64 * call)
    return {**fields, "message": "", "checks_passed": [], "checks_failed": [], "score": unique}


def _long(fields: dict, rank: int, call: int) -> dict:
    head = fields["message"] + " "
    body = "".join(chr(33 + (i * 7 + rank) % 94) for i in range(LONG_MESSAGE_CHARS - len(head)))
    return {**fields, "message": head + body}


def _unicode(fields: dict, rank: int, call: int) -> dict:
    tag = _tag(rank, call)
    return {
        **fields,
        "message": f"{fields['message']} {UNICODE_TEXT}",
        "checks_passed": [f"{tag}_ok_✓", *fields["checks_passed"]],
        "checks_failed": [*fields["checks_failed"], f"{tag}_écart_0.42%"],
    }


def _unicode_long(fields: dict, rank: int, call: int) -> dict:
    repeat = LONG_MESSAGE_CHARS // len(UNICODE_TEXT) + 1
    return {**fields, "message": f"{fields['message']} {UNICODE_TEXT * repeat}"}


def _many_checks(fields: dict, rank: int, call: int) -> dict:
    """Hundreds of checks, duplicated and out of order: a set or a sort changes them."""
    tag = _tag(rank, call)
    many = [f"{tag}_k{(i * 37) % 97:02d}" for i in range(MANY_CHECKS)]
    return {**fields, "checks_passed": many, "checks_failed": list(reversed(many[: MANY_CHECKS // 3]))}


def _score(fields: dict, rank: int, call: int) -> dict:
    return {**fields, "score": SPECIAL_SCORES[(rank + call) % len(SPECIAL_SCORES)]}


PAYLOADS: dict[str, Callable[[dict, int, int], dict]] = {
    "plain": lambda fields, rank, call: fields,
    "empty": _empty,
    "long": _long,
    "unicode": _unicode,
    "unicode_long": _unicode_long,
    "many_checks": _many_checks,
    "score": _score,
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
        if payload not in PAYLOADS:
            raise ScenarioError(f"rank {rank} call {call}: unknown payload {payload!r} (known: {', '.join(PAYLOADS)})")
        return {**PAYLOADS[payload](base, rank, call), **explicit}
    raise ScenarioError(f"rank {rank} call {call}: a gate decision must be a bool or a dict, got {value!r}")
