"""The checks behind the clauses: each reads a `ScenarioResult` and returns a `Judgement`.

A judgement counts what the check could judge and what it could not: a call that some rank never
reported (it raised, hung, died or stopped before it) is `unjudged`, never silently passed. Violations carry a
`kind`, so a shrunk scenario can be required to fail for the same reason as the original one.

Checks judge only what the ranks reported. A call a rank never finished is left to the clauses about
termination and deadlocks, so every clause fails for its own reason and no other. Provenance makes the
strict checks sharp: the harness gives every rank a different local result per call
(`harness.records.decisions`), so a returned result names the rank and call it was decided for.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ...records.contract import MAX_EMBARGO_EPOCHS, Stage, default_target, expected_transition, stage_name
from ...records.fingerprints import parting_words
from ...records.messages import CallRecord, error_line
from ...records.report import RankOutcome, ScenarioResult, failure_cause
from ...records.scenario import Op
from ...records.stacks import frame_in_stack
from ...records.statuses import RankStatus

SUFFIX_PATTERN = re.compile(r" ?\(local=\w+, synced from rank0=\w+\)")
SUFFIX_SHAPED = re.compile(r"^ ?\([^()\n]{0,80}\)$")
DORMANT_OR_EMPTY = (None, int(Stage.DORMANT))
RESULT_COMPARED = ("gate", "passed", "score", "checks_passed", "checks_failed")
SHOWN_FIELDS = 4


def suffix(local_passed: bool, synced_passed: bool) -> str:
    return f" (local={local_passed}, synced from rank0={synced_passed})"


@dataclass(frozen=True)
class Violation:
    """One breach of a clause: `kind` names the rule broken, `text` says where and how; `call` is the
    call index it is about, when there is one."""

    kind: str
    text: str
    call: int | None = None

    def __str__(self) -> str:
        return self.text


@dataclass
class Judgement:
    """What a check found in one scenario. A check that judges only some of its judged calls (an error's
    message, say, when the call may also legitimately return) counts those in `exercised` and says in
    `unexercised` why none was there: a clause none of whose scenarios exercised it has checked nothing,
    and must not read `pass`. None means every judged call exercises the check. `unjudged_reason` is the
    check's own account of why calls went unjudged, when no rank's failure is (`harness.spec.judging`)."""

    violations: list[Violation] = field(default_factory=list)
    judged: int = 0
    unjudged: int = 0
    exercised: int | None = None
    unexercised: str = ""
    unjudged_reason: str = ""

    def add(self, kind: str, text: str, call: int | None = None) -> None:
        self.violations.append(Violation(kind, text, call))

    @property
    def kinds(self) -> set[str]:
        return {v.kind for v in self.violations}


@dataclass
class Call:
    """One call index across every rank: each rank's op and record (None where it has none)."""

    index: int
    ops: list[Op | None]
    records: list[CallRecord | None]

    @property
    def symmetric(self) -> bool:
        """Every rank was asked to make this very call (same op, slot and target)."""
        first = self.ops[0]
        return first is not None and all(
            op is not None and op.ranks is None and op.call_key == first.call_key for op in self.ops
        )

    @property
    def reported(self) -> bool:
        """Every rank reported the call."""
        return all(r is not None and not r.skipped for r in self.records)

    @property
    def collective_failed(self) -> bool:
        """Some rank's call ended in a failed collective: a consequence of another rank's failure
        (termination's to judge), not the lifecycle behaviour of this call."""
        return any(r is not None and r.error is not None and r.error["in_collective"] for r in self.records)

    @property
    def same_everywhere(self) -> bool:
        return self.symmetric and self.reported

    @property
    def label(self) -> str:
        op = self.ops[0]
        return op.label(self.index) if op is not None else f"call #{self.index}"

    def rank0_local(self) -> dict | None:
        record = self.records[0]
        return record.local[-1] if record and record.local else None


def calls(result: ScenarioResult) -> Iterator[Call]:
    outcomes = result.outcomes
    length = max(len(result.scenario.ops_for(o.rank)) for o in outcomes)
    for index in range(length):
        ops = [_at(result.scenario.ops_for(o.rank), index) for o in outcomes]
        yield Call(index, ops, [_at(o.records, index) for o in outcomes])


def _at(items: list, index: int) -> Any:
    return items[index] if index < len(items) else None


def same_float(a: float, b: float) -> bool:
    """Bit-for-bit equality (so -0.0 differs from 0.0); any NaN equals any NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack(">d", a) == struct.pack(">d", b)


def differing_fields(returned: dict, decided: dict) -> list[str]:
    """The result fields of `returned` that are not exactly `decided`'s; the message may carry one
    suffix-shaped tail (whose wording is the divergence report's business, not this one's)."""
    fields = [
        k
        for k in RESULT_COMPARED
        if not (same_float(returned[k], decided[k]) if k == "score" else _exact(returned[k], decided[k]))
    ]
    message, original = returned["message"], decided["message"]
    if not (message == original or (message.startswith(original) and SUFFIX_SHAPED.match(message[len(original) :]))):
        fields.append("message")
    return fields


def _exact(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def judged_calls(result: ScenarioResult, judgement: Judgement, broken_unjudged: bool = False) -> Iterator[Call]:
    """The symmetric calls every rank reported, each counted judged; the other symmetric calls are
    counted unjudged (and, with `broken_unjudged`, those ended by a failed collective)."""
    for call in calls(result):
        if not call.symmetric:
            continue
        if not call.reported or (broken_unjudged and call.collective_failed):
            judgement.unjudged += 1
            continue
        judgement.judged += 1
        yield call


def _decisions(result: ScenarioResult, judgement: Judgement) -> Iterator[tuple[Call, int, dict, dict]]:
    """(call, rank, that rank's record, rank 0's local result) for every symmetric gate round every
    rank returned a result for, counting the other rounds as unjudged. A round refused by the
    transition table is not a decision echo, and is left out."""
    for call in calls(result):
        if not call.symmetric or call.ops[0].op != "advance":
            continue
        if not call.reported or any(r.error or r.result is None for r in call.records):
            judgement.unjudged += 1
            continue
        local0 = call.rank0_local()
        if local0 is None or any("transition_failed" in r.result["checks_failed"] for r in call.records):
            continue
        judgement.judged += 1
        for rank, record in enumerate(call.records):
            yield call, rank, record, local0


@dataclass(frozen=True)
class Divergence:
    """A call C1 judged after which the ranks' stages differ: from there on the ranks run different
    lifecycles, so a later hang, death or model difference is likely its consequence."""

    call: int
    label: str
    stages: str
    decisions: str

    @property
    def text(self) -> str:
        decided = f"; {self.decisions}" if self.decisions else ""
        return f"{self.label} left the ranks in different stages ({self.stages}{decided})"


def _divergence(call: Call) -> Divergence | None:
    """`call`'s divergence, when the ranks' stages differ after it: each rank's stage, and for a gate round
    each rank's own gate decision and the decision it returned."""
    stages = [r.stage_after for r in call.records]
    if len(set(stages)) < 2:
        return None
    by_rank = ", ".join(f"rank {rank} {stage_name(stage)}" for rank, stage in enumerate(stages))
    own = _by_rank("own gate decisions", [_passed(r.local[-1]) if r.local else None for r in call.records])
    returned = _by_rank("returned", [_returned(r) for r in call.records])
    return Divergence(call.index, call.label, by_rank, "; ".join(filter(None, (own, returned))))


def _passed(fields: dict) -> str:
    return f"passed={fields['passed']}"


def _returned(record: CallRecord) -> str | None:
    """What a rank's call gave back: its result's `passed`, or the exception it raised instead."""
    if record.result:
        return _passed(record.result)
    return f"raised {record.error['type']}" if record.error else None


def _by_rank(what: str, values: list[str | None]) -> str:
    """`what` per rank (passed=..., raised ...), or once for every rank when they agree ("" when no rank has
    one); a rank with none says so."""
    if all(value is None for value in values):
        return ""
    if len(set(values)) == 1:
        return f"{what} {values[0]} on every rank"
    return f"{what}: " + ", ".join(f"rank {rank} {value or 'none'}" for rank, value in enumerate(values))


def divergence(result: ScenarioResult) -> Divergence | None:
    """The first call at which C1 finds the ranks' stages differ: the one definition of "the ranks'
    lifecycles diverged" that C1, the other clauses' reasons and the DDP table share."""
    return next(filter(None, map(_divergence, judged_calls(result, Judgement(), broken_unjudged=True))), None)


def agreement(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for call in judged_calls(result, judgement, broken_unjudged=True):
        found = _divergence(call)
        if found is not None:
            judgement.add("stage_differs", found.text, call.index)
    finished = [o for o in result.outcomes if o.status == RankStatus.OK]
    if len(finished) == len(result.outcomes):
        for slot in result.scenario.slots:
            views = [_final_view(o.snapshots.get(slot, {})) for o in finished]
            differing = view_differences(views, 2)
            if differing:
                text = f"at the end of the scenario, slot {slot!r} differs across ranks in {differing}"
                judgement.add("final_state_differs", text)
    return judgement


def _final_view(snapshot: dict) -> dict:
    return {"stage": snapshot.get("stage"), "stage_history": snapshot.get("stage_history")}


def authority(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for call, rank, record, local0 in _decisions(result, judgement):
        returned = record.result
        moved = record.stage_after != record.stage_before
        if returned["passed"] != local0["passed"] or moved != local0["passed"]:
            judgement.add("not_rank0_decision", _authority_reason(call, rank, local0["passed"]), call.index)
    return judgement


def _authority_reason(call: Call, rank: int, decided: bool) -> str:
    """What rank `rank` did against rank 0's decision: the result it returned and where its stage went,
    beside where rank 0's stage went when it went elsewhere."""
    record, rank0 = call.records[rank], call.records[0]
    text = f"{call.label}: rank 0 decided passed={decided}; rank {rank} returned passed={record.result['passed']}"
    text += f" and its stage {_stage_move(record)}"
    if rank != 0 and (rank0.stage_before, rank0.stage_after) != (record.stage_before, record.stage_after):
        text += f", while on rank 0 the stage {_stage_move(rank0)}"
    return text


def _stage_move(record: Any) -> str:
    before, after = stage_name(record.stage_before), stage_name(record.stage_after)
    return f"moved {before} -> {after}" if after != before else f"stayed {before}"


def integrity(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for call, rank, record, local0 in _decisions(result, judgement):
        returned = record.result
        fields = differing_fields(returned, local0)
        if fields:
            detail = "; ".join(f"{k}: {first_difference(returned[k], local0[k])}" for k in fields)
            judgement.add(
                "fields:" + ",".join(fields),
                f"{call.label}: rank {rank}'s result differs from rank 0's decision in {', '.join(fields)} ({detail})",
                call.index,
            )
    return judgement


def divergence_report(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for call, rank, record, local0 in _decisions(result, judgement):
        own = record.local
        if not own:
            continue
        message, mine = record.result["message"], own[-1]["passed"]
        if rank != 0 and mine != local0["passed"]:
            expected = suffix(mine, local0["passed"])
            if not message.endswith(expected):
                text = f"rank {rank} was overruled but its message {clip(message)} does not end with {expected!r}"
                judgement.add("suffix_missing", f"{call.label}: {text}", call.index)
        elif SUFFIX_PATTERN.search(_after(message, local0["message"])):
            why = "rank 0" if rank == 0 else f"rank {rank}, which agreed with rank 0,"
            text = f"{call.label}: {why} carries a divergence suffix: {clip(message)}"
            judgement.add("suffix_unexpected", text, call.index)
    return judgement


def _after(message: str, original: str) -> str:
    """What follows rank 0's message in `message` (all of it, when it does not start with it)."""
    return message[len(original) :] if message.startswith(original) else message


def single_process(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for outcome in result.outcomes:
        judgement.unjudged += len(result.scenario.ops_for(outcome.rank)) - len(outcome.records)
        for record in outcome.records:
            judgement.judged += 1
            where = f"call #{record.index} {record.op} {record.slot!r}"
            if record.collectives:
                judgement.add(
                    "collective_attempted", f"{where}: collectives attempted: {record.collectives}", record.index
                )
            if record.local and record.result is not None and not record.same_object:
                judgement.add(
                    "not_same_object", f"{where}: the local result was not returned as the same object", record.index
                )
            if record.error:
                judgement.add("raised", f"{where}: raised {error_line(record.error)}", record.index)
    return judgement


def termination(result: ScenarioResult) -> Judgement:
    """The rank that stopped or died first (with its call and own line), then the other ranks'
    failures, as its consequences."""
    judgement = Judgement(judged=1)
    if result.ok:
        return judgement
    cause = failure_cause(result)
    if cause is not None:
        outcome = result.outcomes[cause.rank]
        judgement.add(outcome.status, cause.text, outcome.current_call)
    for outcome in result.outcomes:
        if outcome.status != RankStatus.OK and (cause is None or outcome.rank != cause.rank):
            where = outcome.current_call if outcome.current_call is not None else len(outcome.records) - 1
            what = error_line(outcome.failure) if outcome.failure else _unfinished(result, outcome)
            consequence = f" (a consequence of rank {cause.rank})" if cause else ""
            text = f"rank {outcome.rank} {outcome.status} at call #{where}: {what}{consequence}"
            judgement.add(outcome.status, text, where)
    return judgement


def _unfinished(result: ScenarioResult, outcome: RankOutcome) -> str:
    """What a rank that ended without an error was doing, and where: its own line, when the stack has one."""
    if outcome.status == RankStatus.HUNG:
        what = (
            "deadlocked in a collective"
            if result.deadlock
            else "waiting, no progress"
            if result.stall is not None
            else "it did not finish before the deadline"
        )
    else:
        what = f"exited with code {outcome.exitcode}" if outcome.status == RankStatus.EXITED else str(outcome.signal)
    frame = frame_in_stack(outcome.stack)
    what += f" (at {frame})" if frame is not None else ""
    left = [
        other
        for other in result.outcomes
        if other.status == RankStatus.RAISED
        and outcome.current_call is not None
        and len(other.records) <= outcome.current_call
    ]
    if outcome.status == RankStatus.HUNG and left:
        stopped = ", ".join(f"rank {o.rank} at call #{len(o.records) - 1}" for o in left)
        what += f", waiting for ranks that had raised and left ({stopped})"
    return what


def lifecycle(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for outcome in result.outcomes:
        ops = result.scenario.ops_for(outcome.rank)
        judgement.unjudged += len(ops) - len(outcome.records)
        for op, record in zip(ops, outcome.records, strict=False):
            if record.contract or (record.error and record.error["in_collective"]):
                judgement.unjudged += 1
                continue
            judgement.judged += 1
            problem = _lifecycle_problem(op, record)
            if problem:
                kind, text = problem
                judgement.add(kind, f"rank {outcome.rank} call #{record.index} slot {op.slot!r}: {text}", record.index)
    for call in calls(result):
        if call.same_everywhere and call.ops[0].op == "advance" and not call.collective_failed:
            raised = [r.error is not None for r in call.records]
            if len(set(raised)) > 1:
                judgement.add(
                    "ranks_differ",
                    f"{call.label}: ranks {[i for i, r in enumerate(raised) if r]} raised and the others returned",
                    call.index,
                )
    return judgement


def _lifecycle_problem(op: Op, record: CallRecord) -> tuple[str, str] | None:
    before, after, returned, error = record.stage_before, record.stage_after, record.result, record.error
    if op.op == "germinate":
        return None if after == Stage.GERMINATED else ("germinate", f"germinate left stage {stage_name(after)}")
    if op.op != "advance":
        return None
    local = record.local[-1] if record.local else None
    if local is not None and not local["passed"] and before is not None:
        expected = "gate_fails"
    elif before is None:
        expected = "no_active_seed"
    else:
        expected = expected_transition(before, op.target)
    target = stage_name(op.target)
    if expected == "raises":
        return (
            None if error and after == before else ("raises", f"target {target} from {stage_name(before)} must raise")
        )
    if expected == "ungated":
        return _ungated_problem(before, after, returned, error, local, target)
    chosen = op.target if op.target is not None or before is None else default_target(before)
    if error:
        return expected, f"raised {error_line(error)} where the contract expects {_expected_words(expected, chosen)}"
    if expected == "moves":
        ok = returned["passed"] and after == chosen
        text = f"expected {stage_name(before)}->{stage_name(chosen)}, got stage {stage_name(after)}"
        return None if ok else ("moves", text + f" and passed={returned['passed']}")
    if returned["passed"] or after != before:
        moved = f", stage {stage_name(before)} -> {stage_name(after)}" if after != before else ""
        text = f"expected {_expected_words(expected, chosen)}, got passed={returned['passed']}{moved}"
        return expected, text
    marker = {"refused": "transition_failed", "gate_fails": None}.get(expected, expected)
    if marker and marker not in returned["checks_failed"]:
        return expected, f"expected {marker!r} in checks_failed, got {clip(returned['checks_failed'])}"
    return None


def _expected_words(expected: str, chosen: int | None) -> str:
    """What the contract expects of an advance, in words: the move, or a failed result, why, and its marker."""
    return {
        "moves": f"the move to {stage_name(chosen)}",
        "gate_fails": "a failed result and no move (the gate failed)",
        "no_active_seed": "a failed result with 'no_active_seed' and no move (the slot is empty)",
        "refused": f"a failed result with 'transition_failed' and no move (the table forbids {stage_name(chosen)})",
        "no_valid_transition": "a failed result with 'no_valid_transition' and no move (no stage follows)",
    }.get(expected, expected)


def _ungated_problem(
    before: int, after: int | None, returned: dict | None, error: dict | None, local: dict | None, target: str
) -> tuple[str, str] | None:
    """A target with no gate: raising, or one round that fails without a move, are both the contract."""
    if after != before:
        return "ungated", f"target {target} (no gate) moved the slot from {stage_name(before)} to {stage_name(after)}"
    if error or returned is None:
        return None
    if returned["passed"]:
        return "ungated", f"target {target} (no gate) from {stage_name(before)} returned passed=True"
    if local is not None and local["passed"] and "transition_failed" not in returned["checks_failed"]:
        return "ungated", f"target {target} (no gate) was refused without 'transition_failed' in checks_failed"
    return None


def cooldown(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for outcome in result.outcomes:
        ops = result.scenario.ops_for(outcome.rank)
        by_slot: dict[str, list[tuple[Op, CallRecord | None]]] = {}
        for index, op in enumerate(ops):
            by_slot.setdefault(op.slot, []).append((op, _at(outcome.records, index)))
        for slot, steps in by_slot.items():
            if any(record is None for _, record in steps):
                judgement.unjudged += 1
                continue
            judgement.judged += 1
            problem = _cooldown_problem(steps)
            if problem:
                kind, text = problem
                judgement.add(kind, f"rank {outcome.rank} slot {slot!r}: {text}")
    return judgement


def _driven_to(ops: list[Op]) -> Stage | None:
    """The stage the scenario's ops drive a slot to, through passing gates: its last germinate or
    explicit advance target (None when they end in a default-target advance or nothing)."""
    last = ops[-1] if ops else None
    if last is not None and last.op == "germinate":
        return Stage.GERMINATED
    return Stage(last.target) if last is not None and last.op == "advance" and last.target is not None else None


def _cooldown_problem(steps: list[tuple[Op, CallRecord]]) -> tuple[str, str] | None:
    kinds = [op.op for op, _ in steps]
    if "prune" not in kinds:
        return None
    at = kinds.index("prune")
    after_prune = steps[at][1].stage_after
    if _driven_to([op for op, _ in steps[:at]]) == Stage.FOSSILIZED:
        ok = after_prune == Stage.FOSSILIZED
        return None if ok else ("prune", f"prune of FOSSILIZED left stage {stage_name(after_prune)}")
    if after_prune != Stage.PRUNED:
        return "prune", f"prune left stage {stage_name(after_prune)}, not PRUNED"
    seen = [record.stage_after for op, record in steps[at + 1 :] if op.op == "step_epoch"]
    order = [Stage.PRUNED, Stage.EMBARGOED, Stage.RESETTING]
    visited = [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]
    expected = [Stage.EMBARGOED, Stage.RESETTING]
    tail = [s for s in visited if s not in order]
    if [s for s in visited if s in expected] != expected or not tail or tail[-1] not in DORMANT_OR_EMPTY:
        cooling = bool(visited) and visited[-1] in (Stage.EMBARGOED, Stage.RESETTING)
        stuck = f": an embargo may last at most {MAX_EMBARGO_EPOCHS} epochs" if cooling else ""
        return "cooldown", (
            f"epoch clock went {_names(visited)} in the {len(seen)} ticks after the prune, not EMBARGOED,"
            f" RESETTING, then DORMANT{stuck}"
        )
    again = steps[-1][1]
    if steps[-1][0].op != "germinate" or again.error or again.stage_after != Stage.GERMINATED:
        return "regerminate", "the slot could not germinate a new seed after its cool-down"
    return None


def disagreement_safety(result: ScenarioResult) -> Judgement:
    """Ranks disagree at one call: a rank must raise a clear error there, none may wait there, and no
    rank may apply a decision rank 0 made for another call or slot, then or later."""
    judgement = Judgement()
    all_calls = list(calls(result))
    k = _disagreement_index(result, all_calls)
    if k is None:
        return judgement
    reached = all(len(o.records) > k or o.current_call == k for o in result.outcomes)
    stuck = result.stall is not None and not result.stall.in_collective
    died = any(
        o.status in (RankStatus.EXITED, RankStatus.KILLED) and (o.current_call or 0) <= k for o in result.outcomes
    )
    if not reached or died or (stuck and result.outcomes[result.stall.rank].current_call == k):
        # A rank that died, or is stuck in its own code at that call (not waiting for a round), never
        # showed what it would have done there: termination reports it.
        judgement.unjudged += 1
        return judgement
    judgement.judged += 1
    slots = {op.slot for op in all_calls[k].ops if op is not None}
    raised = [
        rank
        for rank, record in enumerate(all_calls[k].records)
        if record
        and record.error
        and not record.error["in_collective"]
        and any(str(s) in record.error["message"] for s in slots)
    ]
    if not raised:
        named = " or ".join(repr(str(slot)) for slot in sorted(map(str, slots)))
        text = f"call #{k}: the ranks disagree on this call ({_asked(all_calls[k])}), yet no rank raised an error"
        text += f" naming slot {named}: a rank must detect the mismatch before it applies a decision, and raise"
        judgement.add("no_fail_fast", text, k)
    for outcome in result.outcomes:
        if outcome.status == RankStatus.HUNG and outcome.current_call is not None and outcome.current_call <= k:
            judgement.add(
                "waits",
                f"rank {outcome.rank} waited in call #{outcome.current_call} for a round the other ranks never"
                " joined (a deadlock)",
                outcome.current_call,
            )
    for violation in misapplied(result, all_calls):
        judgement.violations.append(violation)
    return judgement


def _asked(call: Call) -> str:
    """What each rank was asked to do at `call`: `rank 0 advance 'a' to TRAINING, rank 1 nothing`, or, when
    every rank makes the same call, that an earlier call changed the slot on some ranks only."""
    first = call.ops[0]
    if first is not None and all(op is not None and op.call_key == first.call_key for op in call.ops):
        return f"every rank calls {first.op} {first.slot!r}, which an earlier call changed on some ranks only"
    views = []
    for rank, op in enumerate(call.ops):
        target = f" to {stage_name(op.target)}" if op is not None and op.target is not None else ""
        views.append(f"rank {rank} " + (f"{op.op} {op.slot!r}{target}" if op is not None else "nothing"))
    return ", ".join(views)


def _disagreement_index(result: ScenarioResult, all_calls: list[Call]) -> int | None:
    """The first call the ranks disagree on: different ops, or an advance of a slot that an earlier
    op touched on some ranks only."""
    uneven: set[str] = set()
    for call in all_calls:
        present = [op for op in call.ops if op is not None]
        if len({op.call_key for op in present}) > 1 or len(present) < len(call.ops):
            return call.index
        op = present[0]
        if op.ranks is not None and op.slot:
            uneven.add(op.slot)
        elif op.op == "advance" and op.slot in uneven:
            return call.index
    return None


def origins(result: ScenarioResult) -> dict[str, tuple[int, int]]:
    """Every local gate result of the scenario, by fingerprint: the rank and call that evaluated it."""
    table: dict[str, tuple[int, int]] = {}
    for outcome in result.outcomes:
        for record in outcome.records:
            for local in record.local:
                table.setdefault(fingerprint(local), (outcome.rank, record.index))
    return table


def fingerprint(fields: dict, message: str | None = None) -> str:
    score = fields["score"]
    score_key = "nan" if math.isnan(score) else struct.pack(">d", score).hex()
    body = (fields["gate"], fields["passed"], score_key, fields["checks_passed"], fields["checks_failed"])
    return repr((body, fields["message"] if message is None else message))


def origin_of(returned: dict, table: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """The rank and call whose local result `returned` is, with or without a divergence-suffix tail."""
    found = table.get(fingerprint(returned))
    if found is not None:
        return found
    tail = SUFFIX_PATTERN.search(returned["message"])
    if tail is not None and tail.end() == len(returned["message"]):
        found = table.get(fingerprint(returned, returned["message"][: tail.start()]))
    if found is None:
        passed = dict(returned, passed=not returned["passed"])
        found = table.get(fingerprint(passed, returned["message"][: tail.start()] if tail else None))
    return found


def misapplied(result: ScenarioResult, all_calls: list[Call]) -> list[Violation]:
    """Results a rank returned that another rank decided for another call or another slot."""
    table = origins(result)
    violations = []
    for call in all_calls:
        for rank, record in enumerate(call.records):
            if not record or not record.result:
                continue
            origin = origin_of(record.result, table)
            if origin is None:
                continue
            source_rank, source_call = origin
            source_op = _at(result.scenario.ops_for(source_rank), source_call)
            if source_call != call.index or source_op is None or source_op.slot != call.ops[rank].slot:
                source_slot = source_op.slot if source_op else "?"
                violations.append(
                    Violation(
                        "misapplied",
                        f"rank {rank} call #{call.index} (slot {call.ops[rank].slot!r}) applied the decision rank"
                        f" {source_rank} made at call #{source_call} (slot {source_slot!r})",
                        call.index,
                    )
                )
    return violations


def side_effects(result: ScenarioResult) -> Judgement:
    judgement = Judgement()
    for call in judged_calls(result, judgement):
        snapshots = [r.snapshot for r in call.records]
        if any(s != snapshots[0] for s in snapshots):
            text = f"{call.label}: slot {call.ops[0].slot!r} differs across ranks after the call in"
            text += f" {view_differences(snapshots, SHOWN_FIELDS)}: every rank must apply rank 0's decision and its"
            text += " side effects (stage, alpha and its schedule), the same way"
            judgement.add("side_effects_differ", text, call.index)
    return judgement


def collective_symmetry(result: ScenarioResult) -> Judgement:
    """Per symmetric call, the ordered collective fingerprints of every rank; in a scenario where ranks
    disagree, up to the first disagreement, after which a rank that raised there has rightly stopped."""
    judgement = Judgement()
    all_calls = list(calls(result))
    last = _disagreement_index(result, all_calls)
    for call in all_calls[: None if last is None else last + 1]:
        if not call.symmetric:
            continue
        stuck = [o.rank for o in result.outcomes if o.status == RankStatus.HUNG and o.current_call == call.index]
        entered = {rank: r.entered for rank, r in enumerate(call.records) if r is not None}
        if not call.reported and not stuck:
            judgement.unjudged += 1
            continue
        judgement.judged += 1
        parted = parting_words(entered)
        if parted is not None:
            judgement.add("collectives_differ", f"{call.label}: {parted}", call.index)
        elif stuck and any(not e for e in entered.values()):
            idle = [rank for rank, e in entered.items() if not e]
            judgement.add(
                "collectives_differ",
                f"{call.label}: rank {stuck[0]} is stuck in a collective that rank {idle[0]} never entered"
                f" (rank {idle[0]} returned from the call having entered no collective)",
                call.index,
            )
    return judgement


def view_differences(views: list[dict | None], shown: int, skip: tuple[str, ...] = ()) -> str:
    """The fields on which the ranks' `views` (snapshots, by rank) differ, stage and alpha first, each with
    every rank's value (a stage by its name): `alpha (rank 0 0.333, rank 1 0), stage (...)`, the first
    `shown` of them and how many more ("" when they agree)."""
    views = [view or {} for view in views]
    keys = sorted({key for view in views for key in view if key not in skip}, key=_shown_first)
    differing = [key for key in keys if len({repr(view.get(key)) for view in views}) > 1]
    parts = [
        f"{key} ({', '.join(f'rank {rank} {_field_value(key, view.get(key))}' for rank, view in enumerate(views))})"
        for key in differing[:shown]
    ]
    more = f" and {len(differing) - shown} more fields" if len(differing) > shown else ""
    return ", ".join(parts) + more


def _shown_first(key: str) -> tuple[int, str]:
    return (0 if key in ("stage", "alpha") else 1, key)


def _field_value(key: str, value: Any) -> str:
    if key.endswith("stage") and (value is None or isinstance(value, int)):
        return stage_name(value)
    if key == "stage_history" and isinstance(value, list):
        return "[" + ", ".join(stage_name(stage) for stage in value) + "]"
    return f"{value:.3g}" if isinstance(value, float) else clip(value)


def first_difference(got: Any, decided: Any) -> str:
    """Where `got` first differs from rank 0's `decided` and both values there: for a text or a list the
    first differing index (counted from 0) with both items, or which one ends first; for a score its bit
    pattern."""
    if isinstance(got, (str, list)) and isinstance(decided, (str, list)) and type(got) is type(decided):
        unit = "characters" if isinstance(got, str) else "items"
        shorter = min(len(got), len(decided))
        index = next((i for i in range(shorter) if got[i] != decided[i]), shorter)
        if index < shorter:
            return (
                f"first differs at index {index} of {len(got)} {unit} (rank 0's has {len(decided)}): got"
                f" {clip(got[index])}, rank 0 decided {clip(decided[index])}"
            )
        lengths = f"{len(got)} {unit} where rank 0's has {len(decided)}: the first {shorter} agree"
        if len(got) < len(decided):
            return f"ends after {lengths}, rank 0's goes on with {clip(decided[index])}"
        return f"has {lengths}, then got {clip(got[index])}"
    if isinstance(got, float) and isinstance(decided, float):
        return f"got {got!r} ({_bits(got)}), rank 0 decided {decided!r} ({_bits(decided)})"
    return f"got {clip(got)}, rank 0 decided {clip(decided)}"


def _bits(value: float) -> str:
    return "0x" + struct.pack(">d", value).hex()


def clip(value: Any, limit: int = 60) -> str:
    """`repr(value)`, shortened in the middle with its full length, so a 64 KiB message stays readable."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value)} items" if isinstance(value, list) else f"{len(value)} chars" if isinstance(value, str) else ""
    return f"{text[: limit // 2]}...{text[-limit // 4 :]} ({size or f'{len(text)} chars'})"


def _names(stages: list) -> list[str]:
    return [stage_name(s) for s in stages]
