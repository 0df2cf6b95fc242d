"""The checks behind the clauses: each reads a `ScenarioResult` and returns its violations.

Checks judge only what the ranks reported. A call a rank never finished is left to the clauses
about termination and deadlocks, so every clause fails for its own reason and no other. Provenance
is what makes the strict checks sharp: the harness gives every rank a different local result per
call (`harness.decisions`), so a returned result names the rank and call it was decided for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.contract import Stage, default_target
from harness.report import HUNG, OK, RAISED, ScenarioResult, failure_cause
from harness.scenario import Op
from harness.spec.families import expected_transition

ORIGIN = re.compile(r"^rank (\d+) call (\d+): ")
SUFFIX_PATTERN = re.compile(r" ?\(local=\w+, synced from rank0=\w+\)")
DORMANT_OR_EMPTY = (None, int(Stage.DORMANT))


def suffix(local_passed: bool, synced_passed: bool) -> str:
    return f" (local={local_passed}, synced from rank0={synced_passed})"


@dataclass
class Call:
    """One call index across every rank: each rank's op and record (None where it has none)."""

    index: int
    ops: list[Op | None]
    records: list[dict | None]

    @property
    def same_everywhere(self) -> bool:
        """Every rank made this very call (same op, slot and target) and reported it."""
        first = self.ops[0]
        return (
            first is not None
            and all(r is not None and not r["skipped"] for r in self.records)
            and all(op is not None and _key(op) == _key(first) for op in self.ops)
        )

    def rank0_local(self) -> dict | None:
        record = self.records[0]
        return record["local"][-1] if record and record["local"] else None


def _key(op: Op) -> tuple:
    return op.op, op.slot, op.target


def calls(result: ScenarioResult) -> Iterator[Call]:
    outcomes = result.outcomes
    length = max(len(result.scenario.ops_for(o.rank)) for o in outcomes)
    for index in range(length):
        ops = [_at(result.scenario.ops_for(o.rank), index) for o in outcomes]
        yield Call(index, ops, [_at(o.records, index) for o in outcomes])


def _at(items: list, index: int) -> Any:
    return items[index] if index < len(items) else None


def _decided(call: Call) -> Iterator[tuple[int, dict, dict]]:
    """(rank, returned result, rank 0's local result) for gate rounds every rank completed."""
    local0 = call.rank0_local()
    if not call.same_everywhere or call.ops[0].op != "advance" or local0 is None:
        return
    for rank, record in enumerate(call.records):
        result = record["result"]
        if result is not None and "transition_failed" not in result["checks_failed"]:
            yield rank, result, local0


def agreement(result: ScenarioResult) -> list[str]:
    violations = []
    for call in calls(result):
        if call.same_everywhere:
            stages = [r["stage_after"] for r in call.records]
            if len(set(stages)) > 1:
                violations.append(f"call #{call.index} {call.ops[0].op} {call.ops[0].slot!r}: stages {stages}")
    finished = [o for o in result.outcomes if o.status == OK]
    for slot in result.scenario.slots:
        views = {
            o.rank: (o.snapshots.get(slot, {}).get("stage"), o.snapshots.get(slot, {}).get("stage_history"))
            for o in finished
        }
        if len(set(map(repr, views.values()))) > 1:
            violations.append(f"final stage/history of slot {slot!r} differ across ranks: {views}")
    return violations


def authority(result: ScenarioResult) -> list[str]:
    violations = []
    for call in calls(result):
        for rank, returned, local0 in _decided(call):
            record = call.records[rank]
            moved = record["stage_after"] != record["stage_before"]
            if returned["passed"] != local0["passed"] or moved != local0["passed"]:
                violations.append(
                    f"call #{call.index}: rank {rank} returned passed={returned['passed']} and"
                    f" {'moved' if moved else 'stayed'}, but rank 0 decided passed={local0['passed']}"
                )
    return violations


def integrity(result: ScenarioResult) -> list[str]:
    violations = []
    for call in calls(result):
        for rank, returned, local0 in _decided(call):
            fields = [
                k for k in ("gate", "passed", "score", "checks_passed", "checks_failed") if returned[k] != local0[k]
            ]
            if not returned["message"].startswith(local0["message"]):
                fields.append("message")
            if fields:
                violations.append(
                    f"call #{call.index}: rank {rank} returned {', '.join(fields)} not from rank 0's result"
                    f" (got {_brief(returned)}, rank 0 decided {_brief(local0)})"
                )
    return violations


def divergence_report(result: ScenarioResult) -> list[str]:
    violations = []
    for call in calls(result):
        for rank, returned, local0 in _decided(call):
            own = call.records[rank]["local"]
            if not own:
                continue
            message, mine = returned["message"], own[-1]["passed"]
            if rank != 0 and mine != local0["passed"]:
                expected = suffix(mine, local0["passed"])
                if not message.endswith(expected):
                    violations.append(f"call #{call.index}: rank {rank} message {message!r} lacks {expected!r}")
            elif SUFFIX_PATTERN.search(message):
                why = "rank 0" if rank == 0 else f"rank {rank}, which agreed with rank 0,"
                violations.append(f"call #{call.index}: {why} carries a divergence suffix: {message!r}")
    return violations


def single_process(result: ScenarioResult) -> list[str]:
    violations = []
    for outcome in result.outcomes:
        for record in outcome.records:
            if record["collectives"]:
                violations.append(f"call #{record['index']}: collectives attempted: {record['collectives']}")
            if record["local"] and record["result"] is not None and not record["same_object"]:
                violations.append(f"call #{record['index']}: the local result was not returned as the same object")
            if record["error"]:
                violations.append(f"call #{record['index']}: raised {_error(record['error'])}")
    return violations


def termination(result: ScenarioResult) -> list[str]:
    """The rank that stopped or died first (with its call and own line), then the other ranks' failures."""
    if result.ok:
        return []
    cause = failure_cause(result)
    violations = [cause.text] if cause else []
    for outcome in result.outcomes:
        if outcome.status != OK and (cause is None or outcome.rank != cause.rank):
            where = outcome.current_call if outcome.current_call is not None else len(outcome.records) - 1
            what = _error(outcome.failure) if outcome.failure else outcome.status
            consequence = f" (a consequence of rank {cause.rank})" if cause else ""
            violations.append(f"rank {outcome.rank} {outcome.status} at call #{where}: {what}{consequence}")
    return violations


def lifecycle(result: ScenarioResult) -> list[str]:
    violations = []
    for outcome in result.outcomes:
        for op, record in zip(result.scenario.ops_for(outcome.rank), outcome.records, strict=False):
            problem = _lifecycle_problem(op, record)
            if problem:
                violations.append(f"rank {outcome.rank} call #{record['index']} slot {op.slot!r}: {problem}")
    return violations


def _lifecycle_problem(op: Op, record: dict) -> str | None:
    before, after, returned, error = (record[k] for k in ("stage_before", "stage_after", "result", "error"))
    if op.op == "germinate":
        return None if after == Stage.GERMINATED else f"germinate left stage {after}"
    if op.op != "advance":
        return None
    local = record["local"][-1] if record["local"] else None
    if local is not None and not local["passed"]:
        expected = "gate_fails"
    elif before is None:
        expected = "no_active_seed"
    else:
        expected = expected_transition(before, op.target)
    if expected == "raises":
        return None if error and after == before else f"target {_name(op.target)} from {_name(before)} must raise"
    if error:
        return f"raised {_error(error)} where the contract expects {expected}"
    if expected == "moves":
        chosen = op.target if op.target is not None else default_target(before)
        ok = returned["passed"] and after == chosen
        return None if ok else f"expected {_name(before)}->{_name(chosen)}, got stage {_name(after)}"
    if returned["passed"] or after != before:
        return f"expected a failed result and no move ({expected}), got passed={returned['passed']}"
    marker = {"refused": "transition_failed", "gate_fails": None}.get(expected, expected)
    if marker and marker not in returned["checks_failed"]:
        return f"expected {marker!r} in checks_failed, got {returned['checks_failed']}"
    return None


def cooldown(result: ScenarioResult) -> list[str]:
    violations = []
    for outcome in result.outcomes:
        ops = result.scenario.ops_for(outcome.rank)
        by_slot: dict[str, list[tuple[Op, dict]]] = {}
        for op, record in zip(ops, outcome.records, strict=False):
            by_slot.setdefault(op.slot, []).append((op, record))
        for slot, steps in by_slot.items():
            problem = _cooldown_problem(slot, steps)
            if problem:
                violations.append(f"rank {outcome.rank} slot {slot!r}: {problem}")
    return violations


def _cooldown_problem(slot: str, steps: list[tuple[Op, dict]]) -> str | None:
    kinds = [op.op for op, _ in steps]
    if "prune" not in kinds:
        return None
    at = kinds.index("prune")
    after_prune = steps[at][1]["stage_after"]
    if slot == "prune-fossilized":
        return None if after_prune == Stage.FOSSILIZED else f"prune of FOSSILIZED left stage {_name(after_prune)}"
    if after_prune != Stage.PRUNED:
        return f"prune left stage {_name(after_prune)}, not PRUNED"
    seen = [record["stage_after"] for op, record in steps[at + 1 :] if op.op == "step_epoch"]
    order = [Stage.PRUNED, Stage.EMBARGOED, Stage.RESETTING]
    visited = [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]
    expected = [Stage.EMBARGOED, Stage.RESETTING]
    tail = [s for s in visited if s not in order]
    if [s for s in visited if s in expected] != expected or not tail or tail[-1] not in DORMANT_OR_EMPTY:
        return f"epoch clock went {[_name(s) for s in visited]}, not EMBARGOED, RESETTING, then DORMANT"
    again = steps[-1][1]
    if steps[-1][0].op != "germinate" or again["error"] or again["stage_after"] != Stage.GERMINATED:
        return "the slot could not germinate a new seed after its cool-down"
    return None


def disagreement_safety(result: ScenarioResult) -> list[str]:
    """Ranks disagree at one call: a rank must raise a clear error there, none may wait there, and no
    rank may apply a decision rank 0 made for another call or slot, then or later."""
    all_calls = list(calls(result))
    k = _disagreement_index(result, all_calls)
    if k is None:
        return []
    violations = []
    slots = {op.slot for op in all_calls[k].ops if op is not None}
    raised = [
        rank
        for rank, record in enumerate(all_calls[k].records)
        if record
        and record["error"]
        and not record["error"]["in_collective"]
        and any(str(s) in record["error"]["message"] for s in slots)
    ]
    if not raised:
        violations.append(f"call #{k}: no rank raised an error naming slot {sorted(map(str, slots))}")
    for outcome in result.outcomes:
        if outcome.status == HUNG and outcome.current_call is not None and outcome.current_call <= k:
            violations.append(f"rank {outcome.rank} waited in call #{outcome.current_call} (the JANK-003 deadlock)")
        elif outcome.status not in (OK, HUNG, RAISED):
            violations.append(f"rank {outcome.rank} {outcome.status} ({outcome.signal or outcome.exitcode})")
    violations += misapplied(result, all_calls)
    return violations


def _disagreement_index(result: ScenarioResult, all_calls: list[Call]) -> int | None:
    """The first call the ranks disagree on: different ops, or an advance of a slot that an earlier
    op touched on some ranks only."""
    uneven: set[str] = set()
    for call in all_calls:
        present = [op for op in call.ops if op is not None]
        if len({_key(op) for op in present}) > 1 or len(present) < len(call.ops):
            return call.index
        op = present[0]
        if op.ranks is not None and op.slot:
            uneven.add(op.slot)
        elif op.op == "advance" and op.slot in uneven:
            return call.index
    return None


def misapplied(result: ScenarioResult, all_calls: list[Call]) -> list[str]:
    """Results a rank returned that another rank decided for another call or another slot."""
    violations = []
    for call in all_calls:
        for rank, record in enumerate(call.records):
            if not record or not record["result"]:
                continue
            origin = ORIGIN.match(record["result"]["message"])
            if not origin or int(origin[1]) >= result.world_size:
                continue
            source_rank, source_call = int(origin[1]), int(origin[2])
            source_op = _at(result.scenario.ops_for(source_rank), source_call)
            if source_call != call.index or source_op is None or source_op.slot != call.ops[rank].slot:
                violations.append(
                    f"rank {rank} call #{call.index} (slot {call.ops[rank].slot!r}) applied the decision rank"
                    f" {source_rank} made at call #{source_call} (slot {source_op.slot if source_op else '?'!r})"
                )
    return violations


def side_effects(result: ScenarioResult) -> list[str]:
    violations = []
    for call in calls(result):
        if call.same_everywhere:
            snapshots = [r["snapshot"] for r in call.records]
            if any(s != snapshots[0] for s in snapshots):
                violations.append(f"call #{call.index} {call.ops[0].op} {call.ops[0].slot!r}: {_diff(snapshots)}")
    return violations


def collective_symmetry(result: ScenarioResult) -> list[str]:
    violations = []
    for call in calls(result):
        ops = call.ops
        if ops[0] is None or any(op is None or _key(op) != _key(ops[0]) or op.ranks for op in ops):
            continue
        counts = {rank: r["collectives"] for rank, r in enumerate(call.records) if r is not None}
        stuck = [o.rank for o in result.outcomes if o.status == HUNG and o.current_call == call.index]
        if len(set(map(repr, counts.values()))) > 1 or (stuck and any(not c for c in counts.values())):
            where = f", ranks {stuck} stuck in a collective" if stuck else ""
            violations.append(f"call #{call.index} {ops[0].op} {ops[0].slot!r}: collectives {counts}{where}")
    return violations


def _diff(snapshots: list[dict]) -> str:
    keys = sorted({k for s in snapshots if s for k in s})
    differing = [k for k in keys if len({repr((s or {}).get(k)) for s in snapshots}) > 1]
    return "; ".join(f"{k}: {[(s or {}).get(k) for s in snapshots]}" for k in differing)


def _brief(fields: dict) -> str:
    return f"passed={fields['passed']} score={fields['score']} message={fields['message']!r}"


def _error(error: dict) -> str:
    return f"{error['type']}: {' '.join(str(error['message']).split())[:200]}"


def _name(stage: int | None) -> str:
    return "no seed" if stage is None else Stage(stage).name
