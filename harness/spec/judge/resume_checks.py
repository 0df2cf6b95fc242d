"""The checks of the `resume` profile: they read the `ResumeStep` each rank recorded at each `resume` op.

A restore that raised is a round-trip failure; for the other clauses the calls after it are left
unjudged (the rank stopped there), so each clause fails for its own reason.
"""

from __future__ import annotations

from ...rankside.resume import PROBE_OUTPUT, ResumeStep
from ...records.contract import stage_name
from ...records.messages import CallRecord, error_line
from ...records.report import ScenarioResult
from ..scenarios.resume_families import TWIN
from . import checks, model_checks
from .checks import Call, Judgement, calls, judged_calls

SHOWN = 3


def _resume_calls(result: ScenarioResult, judgement: Judgement) -> list[tuple[Call, list[ResumeStep | None]]]:
    return [
        (call, [ResumeStep.from_record(r) for r in call.records])
        for call in judged_calls(result, judgement)
        if call.ops[0].op == "resume"
    ]


def round_trip(result: ScenarioResult) -> Judgement:
    """R1: the restored slot has the snapshot of the one checkpointed and, with `module`, bitwise the same
    parameters, buffers and probe output."""
    judgement = Judgement()
    for call, steps in _resume_calls(result, judgement):
        for rank, (record, step) in enumerate(zip(call.records, steps, strict=True)):
            if step is None:
                reason = error_line(record.error) if record.error else "no restore was recorded"
                judgement.add("restore_failed", f"{call.label}: rank {rank} could not restore: {reason}", call.index)
                continue
            if step.after != step.before:
                text = f"{call.label}: rank {rank}'s restored snapshot differs: {_difference(step.before, step.after)}"
                judgement.add("snapshot_changed", text, call.index)
            if step.module_before != step.module_after:
                differs = _tensors(step.module_before, step.module_after)
                text = f"{call.label}: rank {rank}'s restored module differs: {differs}"
                judgement.add("module_changed", text, call.index)
    return judgement


def _difference(before: dict, after: dict) -> str:
    keys = sorted(set(before) | set(after))
    changed = [
        f"{k} {before.get(k, '<absent>')!r} -> {after.get(k, '<absent>')!r}"
        for k in keys
        if before.get(k) != after.get(k)
    ]
    return "; ".join(changed[:SHOWN]) + (f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else "")


def _tensors(before: dict[str, str] | None, after: dict[str, str] | None) -> str:
    before, after = before or {}, after or {}
    lost = sorted(set(before) - set(after))
    gained = sorted(set(after) - set(before))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k] and k != PROBE_OUTPUT)
    parts = [
        f"missing {', '.join(lost[:SHOWN])}" if lost else "",
        f"unexpected {', '.join(gained[:SHOWN])}" if gained else "",
    ]
    parts.append(f"other values in {', '.join(changed[:SHOWN])}" if changed else "")
    if before.get(PROBE_OUTPUT) != after.get(PROBE_OUTPUT):
        parts.append("another probe output")
    return "; ".join(p for p in parts if p)


def continued(result: ScenarioResult) -> Judgement:
    """R2: each slot and its twin (restored from checkpoints along the way) go through the same stages with
    the same decisions, snapshots and, at the last checkpoint, module digests."""
    judgement = Judgement()
    pairs = _pairs(result)
    for original, copy in pairs:
        if not (original.reported and copy.reported):
            judgement.unjudged += 1
            continue
        judgement.judged += 1
        for rank, (a, b) in enumerate(zip(original.records, copy.records, strict=True)):
            problem = _continuation_problem(original.ops[0].slot, a, b)
            if problem:
                text = f"{copy.label}: rank {rank}'s restored slot went on differently from {original.label}: {problem}"
                judgement.add("continued_differently", text, copy.index)
    return judgement


def _pairs(result: ScenarioResult) -> list[tuple[Call, Call]]:
    """(call on a slot, the same call on its twin): the twin's call right after it, or for the final
    checkpoints the twin's `resume` op as many calls later as there are slots."""
    every = list(calls(result))
    pairs = []
    for i, call in enumerate(every):
        op = call.ops[0]
        if op is None or op.slot is None or op.slot.endswith(TWIN):
            continue
        later = [c for c in every[i + 1 :] if c.ops[0] is not None and c.ops[0].slot == op.slot + TWIN]
        if later and later[0].ops[0].op == op.op:
            pairs.append((call, later[0]))
    return pairs


def _continuation_problem(slot: str, a: object, b: object) -> str:
    if (a.error is None) != (b.error is None):
        return f"one raised ({error_line(a.error or b.error)}) and the other did not"
    if a.stage_after != b.stage_after:
        return f"stage {a.stage_after} vs {b.stage_after}"
    for key in ("gate", "passed"):
        if a.result is not None and b.result is not None and a.result[key] != b.result[key]:
            return f"result {key} {a.result[key]!r} vs {b.result[key]!r}"
    own, twin = _unnamed(a.snapshot, slot), _unnamed(b.snapshot, slot, slot + TWIN)
    if own != twin:
        return f"snapshot {_difference(own, twin)}"
    first, second = ResumeStep.from_record(a), ResumeStep.from_record(b)
    if first is not None and second is not None and first.module_before != second.module_before:
        return f"module digests differ ({_tensors(first.module_before, second.module_before)})"
    return ""


def _unnamed(snapshot: dict | None, *names: str) -> dict:
    """The snapshot without the fields that name the slot (a twin has its own name in the scenario)."""
    return {k: v for k, v in (snapshot or {}).items() if v not in names}


def under_ddp(result: ScenarioResult) -> Judgement:
    """R3: every rank restored the same slot (snapshot and module), and C1-C4 (with `module` D1 and D2)
    hold over the whole scenario."""
    judgement = Judgement()
    for call, steps in _resume_calls(result, judgement):
        restored = [s for s in steps if s is not None]
        if len({repr(s.after) for s in restored}) > 1:
            views = checks.view_differences([s.after if s else None for s in steps], SHOWN)
            text = f"{call.label}: the ranks restored different slots, which differ in {views}: every rank must"
            text += " restore the same checkpoint (rank 0's), or the ranks start from different states"
            judgement.add("ranks_restored_differently", text, call.index)
        elif len({repr(s.module_after) for s in restored}) > 1:
            judgement.add(
                "ranks_restored_differently", f"{call.label}: the ranks restored different modules", call.index
            )
    found = [checks.agreement, checks.authority, checks.integrity, checks.divergence_report]
    if result.scenario.model:
        found += [model_checks.completion, model_checks.identity]
    for check in found:
        part = check(result)
        judgement.violations += part.violations
        judgement.judged += part.judged
        judgement.unjudged += part.unjudged
    return judgement


def weights_only(result: ScenarioResult) -> Judgement:
    """R4: `torch.load(weights_only=True)` accepted every checkpoint."""
    judgement = Judgement()
    for call, steps in _resume_calls(result, judgement):
        for rank, step in enumerate(steps):
            if step is not None and step.refused is not None and step.source == rank:
                text = f"{call.label}: torch.load(weights_only=True) refused rank {rank}'s checkpoint: {step.refused}"
                judgement.add("not_weights_only", text, call.index)
    return judgement


def restarted(result: ScenarioResult) -> Judgement:
    """R5: from the first restart on, every call of the restarted history matches the same call of the
    uninterrupted run on the same rank (error or not, stage, result, snapshot); at a `restart` op the new
    world restored the slots that were checkpointed. Module digests are compared with rank 0's uninterrupted
    ones (every rank restored rank 0's checkpoint) for the seeds that came through a checkpoint, where the
    rank's own uninterrupted module was rank 0's: a seed germinated after the first restart has the
    implementation's own initialisation in each world."""
    judgement = Judgement()
    uninterrupted = result.uninterrupted
    restarts = result.scenario.restarts
    if uninterrupted is None or not restarts:
        return judgement
    before = list(calls(uninterrupted))
    diverged = _first_disagreement(before)
    if diverged is not None:
        index, text = diverged
        when = "before the restart" if index < restarts[0] else "in the uninterrupted run"
        judgement.unjudged_reason = (
            f"the ranks disagreed {when}, at {text}: the uninterrupted run is not one history, so a restart"
            " cannot be compared with it (that disagreement is the defect, not the restart)"
        )
    regrown: set[str] = set()
    for call in calls(result):
        op = call.ops[0]
        if call.index < restarts[0]:
            continue
        if diverged is not None and call.index >= diverged[0]:
            judgement.unjudged += 1
            continue
        if op.op == "germinate":
            regrown.add(op.slot)
        original = before[call.index]
        if not (call.reported and original.reported):
            judgement.unjudged += 1
            continue
        judgement.judged += 1
        restart = op.op == "restart"
        for rank, (a, b) in enumerate(zip(original.records, call.records, strict=True)):
            problem = _restart_problem(a, b, original.records[0], regrown)
            if problem:
                kind = "restored_differently" if restart else "went_on_differently"
                judgement.add(kind, f"{call.label}: rank {rank} {problem}", call.index)
    return judgement


def _first_disagreement(history: list[Call]) -> tuple[int, str] | None:
    """The first call every rank made and reported on which their stages or decisions differ, with what
    each rank had there."""
    for call in history:
        if not call.same_everywhere:
            continue
        views = [(r.stage_after, (r.result or {}).get("passed")) for r in call.records]
        if len(set(views)) > 1:
            by_rank = "; ".join(
                f"rank {rank} {stage_name(stage)}" + ("" if passed is None else f", passed={passed}")
                for rank, (stage, passed) in enumerate(views)
            )
            return call.index, f"{call.label} ({by_rank})"
        returned = _returned_apart(call.records)
        if returned:
            return call.index, f"{call.label} ({returned})"
    return None


def _returned_apart(records: list[CallRecord]) -> str:
    """Where a rank returned a decision whose fields differ from rank 0's ("" when none did): every rank
    returns rank 0's decision, so a restart cannot be blamed for a value the uninterrupted run already split."""
    decided = records[0].result
    for rank, record in enumerate(records[1:], 1):
        if decided is None or record.result is None:
            continue
        try:
            fields = [f for f in checks.differing_fields(record.result, decided) if f != "message"]
        except KeyError:  # a result without the contract's fields: the integrity clauses report it
            continue
        if fields:
            field = fields[0]
            return f"rank {rank} returned {field} {record.result[field]!r}, rank 0 {decided[field]!r}"
    return ""


def _restart_problem(a: CallRecord, b: CallRecord, rank0: CallRecord, regrown: set[str]) -> str:
    """What the restarted record `b` shows that the uninterrupted `a` (rank 0's: `rank0`) does not; the
    modules of the slots in `regrown` are not compared, nor a rank's module where the uninterrupted run
    already held another than rank 0's there: every rank restores rank 0's checkpoint, so a rank that
    differed without a restart differs after one too, and the restart is not what made it differ."""
    restart = b.op == "restart"
    if (a.error is None) != (b.error is None):
        if b.error is None:
            return f"did not raise {error_line(a.error)} after the restart, as the uninterrupted run did"
        if restart:
            return f"could not restore rank 0's checkpoint in the new world (fresh processes): {error_line(b.error)}"
        return f"raised {error_line(b.error)} after the restart, which the uninterrupted run did not"
    if restart:
        return _restore_problem(a.restart or {}, b.restart or {}, rank0.restart or {}, regrown)
    if a.stage_after != b.stage_after:
        return f"is in stage {stage_name(b.stage_after)} after the restart, {stage_name(a.stage_after)} without it"
    if a.result != b.result:
        theirs, ours = a.result or {}, b.result or {}
        key = next(k for k in {**theirs, **ours} if theirs.get(k) != ours.get(k))
        return f"returned another result after the restart: {key} {ours.get(key)!r}, uninterrupted {theirs.get(key)!r}"
    if a.snapshot != b.snapshot:
        return f"has another snapshot after the restart: {_difference(a.snapshot or {}, b.snapshot or {})}"
    first, second, origin = ResumeStep.from_record(a), ResumeStep.from_record(b), ResumeStep.from_record(rank0)
    agreed = first is None or origin is None or first.module_before == origin.module_before
    compared = second is not None and origin is not None and b.slot not in regrown and agreed
    if compared and origin.module_before != second.module_before:
        return f"holds another module after the restart ({_tensors(origin.module_before, second.module_before)})"
    return ""


def _restore_problem(checkpointed: dict, restored: dict, rank0: dict, regrown: set[str]) -> str:
    for slot, step in restored.items():
        if step["after"] != checkpointed.get(slot, {}).get("before"):
            text = _difference(checkpointed.get(slot, {}).get("before") or {}, step["after"])
            return f"restored slot {slot!r} in the new world differently from the one checkpointed: {text}"
        origin = rank0.get(slot, {}).get("module_before")
        if slot not in regrown and step.get("module_after") != origin:
            return f"restored slot {slot!r}'s module differently ({_tensors(origin, step.get('module_after'))})"
    return ""
