"""Simpler payloads for the shrinker: a generated payload keeps its length (where framing defects live)
and loses what does not matter, so evidence shows the one result that breaks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..records import payloads
from ..records.scenario import Op, Scenario


def _payload(value: object) -> str | None:
    return value.get("payload") if isinstance(value, dict) and isinstance(value.get("payload"), str) else None


def _candidates(local: list) -> Iterator[list]:
    """Per-rank decisions, simpler one step at a time: the other ranks' payloads plain, then each
    generated payload drawn from seed 0."""
    if any(_payload(v) not in (None, "plain") for v in local[1:]):
        yield [local[0], *[v.get("passed", True) if _payload(v) else v for v in local[1:]]]
    for rank, value in enumerate(local):
        simpler = payloads.simpler(_payload(value) or "")
        if simpler is not None:
            yield [*local[:rank], {**value, "payload": simpler}, *local[rank + 1 :]]


def simpler_payloads(scenario: Scenario) -> Iterator[Scenario]:
    """`scenario` with one advance's payloads simplified, for every advance and every simplification."""
    for index, op in enumerate(scenario.ops):
        if op.op != "advance" or not isinstance(op.local, list):
            continue
        for local in _candidates(op.local):
            ops: list[Op] = [*scenario.ops]
            ops[index] = dataclasses.replace(op, local=local)
            yield dataclasses.replace(scenario, ops=ops)
