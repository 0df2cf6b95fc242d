"""Failure propagation: one rank raises, exits or is killed inside a gate round; what do the others do?

Each scenario germinates one slot and advances it once; the faulting rank fails inside its own gate
evaluation, before it can join the round. A rank that raises then ends its process, as a training job's
process does, so every fault leaves a dead peer. The survivors may take up to the process group's
timeout to notice (the world gives them that and a margin, `harness.worlds.world`); on gloo a closed
connection is reported at once, so a correct implementation costs no wait. Such a world is not reused,
so the set is small (see `scenarios`).

What an implementation can promise: a survivor waiting for rank 0's decision that never comes ends its
call with an error (gloo's own, or one of its making, of any class) and applies nothing. When a
receiving rank dies, rank 0's broadcast may still reach the others, so a survivor that returns rank 0's
decision is right too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ...records.contract import Stage, default_target
from ...records.messages import CallRecord, error_line
from ...records.report import RankOutcome, ScenarioResult
from ...records.scenario import Op, Scenario
from ...records.stacks import frame_in_stack
from ...records.statuses import DEAD, RankStatus
from ..judge.checks import Judgement

FAULT_KINDS = ("raise", "exit", "kill")
SLOT = "propagation_slot"
FAULT_EXIT_CODE = 1
RETURNED = "returned rank 0's decision"
PROGRAMMING_ERRORS = frozenset(
    {"AttributeError", "NameError", "UnboundLocalError", "TypeError", "KeyError", "IndexError", "AssertionError"}
)  # Python's own classes of these names (an implementation's class of the same name is its own)


def world_sizes(sizes: tuple[int, ...]) -> list[int]:
    """World sizes 2 and 3 of the run, or its smallest distributed one when it has neither."""
    chosen = [size for size in sizes if size in (2, 3)]
    distributed = [size for size in sizes if size > 1]
    return chosen or distributed[:1]


def scenarios(world_size: int, sizes: tuple[int, ...]) -> list[Scenario]:
    """One scenario per fault kind, shared out among `world_sizes(sizes)` (each costs a fresh world):
    with both 2 and 3, world size 2 takes the first two kinds and 3 the last, else the one size takes
    all three. At world size 2 the dead rank alternates between 1 and 0 (rank 0's round reaches rank 1
    directly); from 3 it is rank 0, whose decision every survivor waits for. There a dead receiver can
    leave the other receivers waiting out the process group's timeout (an implementation of two rounds,
    as upstream's, never sends the second one): legitimate, but slow to judge."""
    chosen = world_sizes(sizes)
    if world_size not in chosen:
        return []
    kinds = list(enumerate(FAULT_KINDS))
    if len(chosen) > 1:
        kinds = kinds[:2] if world_size == chosen[0] else kinds[2:]
    return [scenario(world_size, kind, (index + 1) % 2 if world_size == 2 else 0) for index, kind in kinds]


def scenario(world_size: int, kind: str, dead: int) -> Scenario:
    """Rank `dead` fails with `kind` in its gate evaluation at the slot's first advance. Rank 0, when it
    survives, decides `passed=False` and every other survivor's own gate passes, so a survivor applying
    its local decision shows."""
    fault = {"fault": kind, "code": FAULT_EXIT_CODE} if kind == "exit" else {"fault": kind}
    local = [fault if rank == dead else rank != 0 for rank in range(world_size)]
    ops = [Op("germinate", slot=SLOT), Op("advance", slot=SLOT, local=local, continue_on_error=kind == "raise")]
    if kind == "raise":
        ops.append(Op("fault", fault={"kind": "exit", "code": FAULT_EXIT_CODE}, ranks=[dead]))
    name = f"propagation-{kind}-rank{dead}-ws{world_size}"
    return Scenario(name=name, world_size=world_size, slots=[SLOT], ops=ops).validate()


@dataclasses.dataclass(frozen=True)
class Fault:
    """Where a scenario's fault is: the call and the rank that fails in its gate evaluation."""

    call: int
    rank: int

    def where(self, rank: int) -> str:
        return f"rank {rank} call #{self.call} advance {SLOT!r} (rank {self.rank} failed in that round)"


def fault_of(scenario: Scenario) -> Fault | None:
    """The first advance whose local decision for some rank is a fault (a shrunk scenario may have none)."""
    for index, op in enumerate(scenario.ops):
        if op.op == "advance" and isinstance(op.local, list):
            ranks = [rank for rank, value in enumerate(op.local) if isinstance(value, dict) and "fault" in value]
            if ranks:
                return Fault(index, ranks[0])
    return None


def _survivor_calls(
    result: ScenarioResult, judgement: Judgement
) -> Iterator[tuple[Fault, RankOutcome, CallRecord | None]]:
    """(fault, outcome, record) of every survivor's call at the fault, once the faulting rank died there
    and every survivor reached that call; otherwise (a shrunk scenario without a fault, a fault no rank
    died of) the scenario is unjudged."""
    fault = fault_of(result.scenario)
    dead = result.outcomes[fault.rank] if fault is not None else None
    if fault is None or dead is None or dead.status not in DEAD or len(dead.records) < fault.call:
        judgement.unjudged += 1
        return
    survivors = [o for o in result.outcomes if o.rank != dead.rank]
    if any(len(o.records) < fault.call for o in survivors):
        judgement.unjudged += 1
        return
    judgement.judged += 1
    for outcome in survivors:
        record = outcome.records[fault.call] if len(outcome.records) > fault.call else None
        yield fault, outcome, record


def propagation(result: ScenarioResult) -> Judgement:
    """Every survivor's pending call ends: with an error that is not a crash of the error path and a
    slot left where it was, or with rank 0's own decision; never a wait, a death of its own or its
    local decision."""
    judgement = Judgement()
    for fault, outcome, record in _survivor_calls(result, judgement):
        where, call = fault.where(outcome.rank), fault.call
        if record is None and outcome.status in DEAD:
            how = f"exit code {outcome.exitcode}" if outcome.status == RankStatus.EXITED else outcome.signal
            judgement.add(
                "died",
                f"{where}: its process ended ({how}) instead of the call ending with an error: the error path"
                " took the rank down",
                call,
            )
        elif record is None:
            frame = frame_in_stack(outcome.stack)
            at = f" at {frame}" if frame is not None else ""
            judgement.add(
                "waits",
                f"{where}: never ended; it was still in the call{at} when the harness gave up, the process"
                " group's timeout after the death: a call whose peer died must end with an error",
                call,
            )
        elif record.error is not None:
            if _programming_error(record.error):
                judgement.add("error_path_crash", f"{where}: the error path crashed: {error_line(record.error)}", call)
            if record.stage_after != record.stage_before:
                moved = f"{_name(record.stage_before)} -> {_name(record.stage_after)}"
                judgement.add("applied_on_error", f"{where}: raised, yet the slot moved {moved}", call)
        elif record.result is not None:
            problem = _returned_problem(result, fault, record)
            if problem:
                judgement.add("applied_local", f"{where}: {problem}", call)
    return judgement


def _programming_error(error: dict) -> bool:
    module, _, name = error["qualname"].rpartition(".")
    return module == "builtins" and name in PROGRAMMING_ERRORS


def _returned_problem(result: ScenarioResult, fault: Fault, record: CallRecord) -> str:
    passed = record.result["passed"]
    if fault.rank == 0:
        return f"returned passed={passed} although rank 0 failed before deciding: a decision nobody made"
    records = result.outcomes[0].records
    rank0 = records[fault.call] if len(records) > fault.call else None
    decided = rank0.local[-1]["passed"] if rank0 is not None and rank0.local else None
    if decided is not None and passed != decided:
        return f"returned passed={passed}, its own decision, where rank 0 decided passed={decided}"
    if decided is False and record.stage_after != record.stage_before:
        moved = f"{_name(record.stage_before)} -> {_name(record.stage_after)}"
        return f"moved the slot {moved} although rank 0 decided passed=False"
    return ""


def failure_report(result: ScenarioResult) -> Judgement:
    """Every survivor's error at the fault names the slot and the stage the call was to reach, in any
    letter case (`TRAINING`, `SeedStage.TRAINING` and `training` all name it)."""
    judgement = Judgement(exercised=0)
    target = default_target(Stage.GERMINATED).name
    ended: list[str] = []
    for fault, outcome, record in _survivor_calls(result, judgement):
        if record is None or record.error is None:
            ended.append(_how_ended(result, fault, outcome, record))
            continue
        judgement.exercised += 1
        message = record.error["message"].lower()
        named_as = {SLOT: f"the slot {SLOT!r}", target: f"{target} (the stage the call was to reach)"}
        missing = [named_as[what] for what in (SLOT, target) if what.lower() not in message]
        if missing:
            named = " or ".join(missing)
            where = fault.where(outcome.rank)
            judgement.add(
                "unnamed", f"{where}: its error does not name {named}: {error_line(record.error)}", fault.call
            )
    if ended and not judgement.exercised:
        judgement.unexercised = _unraised_reason(ended)
    return judgement


def _how_ended(result: ScenarioResult, fault: Fault, outcome: RankOutcome, record: CallRecord | None) -> str:
    if record is None:
        return "died" if outcome.status in DEAD else "never ended"
    return "returned a decision rank 0 did not make" if _returned_problem(result, fault, record) else RETURNED


def _unraised_reason(ended: list[str]) -> str:
    """Why no survivor's error was there to judge, from how each survivor's call ended instead."""
    if set(ended) == {RETURNED}:
        return (
            "no survivor's call raised: every survivor returned rank 0's decision, so no error message was"
            " there to judge"
        )
    counts = ", ".join(f"{ended.count(how)} {how}" for how in dict.fromkeys(ended))
    return (
        f"no survivor's call raised ({counts}; the failure propagation clause judges those), so no error"
        " message was there to judge"
    )


def _name(stage: int | None) -> str:
    return "empty" if stage is None else Stage(stage).name
