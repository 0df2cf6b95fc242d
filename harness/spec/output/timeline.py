"""A scenario's history as the timeline draws it: one lane per rank, one cell per call, JSON-able.

Evidence carries it, so a certificate's page can be drawn long after the ranks are gone. Each cell
holds what a person needs to see a divergence: the stage after the call, the rank's local decision
against rank 0's and the one it returned, the collectives entered (their fingerprints), and the error,
stall or death that ended the rank there. `parting` is the first call where the ranks part (other
ops, other stages, other collectives, one rank failing or missing); `violated` the first violation's
call; `marked` the call the page marks: the parting one, else the violated one.
"""

from __future__ import annotations

from ...records.contract import stage_name
from ...records.fingerprints import key
from ...records.messages import CallRecord, error_line
from ...records.report import ScenarioResult
from ...records.statuses import RankStatus
from ..judge.checks import Violation

MAX_CALLS = 40


def history(result: ScenarioResult, violations: list[Violation]) -> dict:
    """`result` as lanes and cells, with the violations and the call to mark."""
    outcomes = result.outcomes
    length = max((len(result.scenario.ops_for(o.rank)) for o in outcomes), default=0)
    calls = []
    for index in range(length):
        ops = [_at(result.scenario.ops_for(o.rank), index) for o in outcomes]
        first = next((op for op in ops if op is not None), None)
        label = _label(first) if first is not None else ""
        cells = [_cell(o, _at(o.records, index), ops[o.rank], index, result) for o in outcomes]
        calls.append({"index": index, "label": label, "cells": cells})
    parting = _parting(calls)
    violated = next((v.call for v in violations if v.call is not None), None)
    marked = parting if parting is not None else violated
    shown = _window(length, marked)
    return {
        "world_size": result.world_size,
        "ranks": [{"rank": o.rank, "status": o.status} for o in outcomes],
        "calls": calls[shown[0] : shown[1]],
        "calls_total": length,
        "parting": parting,
        "marked": marked,
        "violated": violated,
        "violations": [{"text": v.text, "call": v.call} for v in violations],
    }


def _label(op) -> str:
    target = stage_name(op.target) if op.target is not None else None
    return " ".join(str(part) for part in (op.op, op.slot, target) if part)


def _cell(outcome, record: CallRecord | None, op, index: int, result: ScenarioResult) -> dict:
    if op is None:
        return {"state": "none"}
    if record is None:
        return {"state": _missing(outcome, index, result)}
    if record.skipped:
        return {"state": "skipped"}
    local = record.local[-1]["passed"] if record.local else None
    return {
        "state": "error" if record.error else "ok",
        "stage": stage_name(record.stage_after) if record.stage_after is not None else None,
        "local": local,
        "returned": record.result["passed"] if record.result else None,
        "error": error_line(record.error) if record.error else None,
        "in_collective": bool(record.error and record.error["in_collective"]),
        "entered": record.entered,
    }


def _missing(outcome, index: int, result: ScenarioResult) -> str:
    """What became of a rank at a call it never reported."""
    if outcome.current_call != index:
        return "never_reached"
    if outcome.status == RankStatus.HUNG:
        in_collective = result.stall is None or result.stall.rank != outcome.rank or result.stall.in_collective
        return "stuck_in_collective" if result.deadlock or in_collective else "stalled"
    return "killed" if outcome.status == RankStatus.KILLED else "exited"


def _parting(calls: list[dict]) -> int | None:
    for call in calls:
        views = {repr(_view(cell)) for cell in call["cells"]}
        if len(views) > 1:
            return call["index"]
    return None


def _view(cell: dict) -> tuple:
    entered = tuple(key(e) for e in cell.get("entered", []))
    return cell["state"], cell.get("stage"), cell.get("returned"), entered


def _window(length: int, marked: int | None) -> tuple[int, int]:
    """At most `MAX_CALLS` calls, the marked one among them."""
    if length <= MAX_CALLS:
        return 0, length
    start = max(0, min((marked or 0) - MAX_CALLS // 2, length - MAX_CALLS))
    return start, start + MAX_CALLS


def _at(items: list, index: int):
    return items[index] if index < len(items) else None
