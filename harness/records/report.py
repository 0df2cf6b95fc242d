"""What a scenario run brings back: every rank's outcome and history, and the per-rank table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .messages import CallRecord, ErrorInfo, Message, RankEnd, RankExiting, RestartCheckpoint, SetUp, error_line
from .scenario import Scenario
from .stacks import Frame, Stall, frame_in_stack, frame_in_traceback
from .statuses import RankStatus

REPORT_LINE_LIMIT = 160


@dataclass(frozen=True)
class EarlierRuns:
    """What the rank processes had run of one implementation before a scenario (a warm world runs scenario
    after scenario, shrink candidates and the reference's answers to them too): an implementation that
    keeps state per process may fail only after its own earlier runs."""

    scenarios: int = 0
    calls: int = 0
    last: str | None = None

    def after(self, scenario: str, calls: int) -> EarlierRuns:
        return EarlierRuns(self.scenarios + 1, self.calls + calls, scenario)

    def to_dict(self) -> dict:
        return {"scenarios": self.scenarios, "calls": self.calls, "last": self.last}


@dataclass
class RankOutcome:
    rank: int
    status: RankStatus = RankStatus.HUNG
    records: list[CallRecord] = field(default_factory=list)
    snapshots: dict = field(default_factory=dict)
    error: ErrorInfo | None = None
    stack: str = ""
    exitcode: int | None = None
    signal: str | None = None
    output: str = ""
    collective_totals: dict = field(default_factory=dict)
    collective_failed: bool = False
    exit_error: ErrorInfo | None = None
    set_up: bool = False
    checkpoints: list[RestartCheckpoint] = field(default_factory=list)

    def apply(self, message: Message) -> bool:
        """Fold one message from the rank into this outcome; True once the rank reported its end."""
        if isinstance(message, SetUp):
            self.set_up = True
        elif isinstance(message, CallRecord):
            self.records.append(message)
        elif isinstance(message, RestartCheckpoint):
            self.checkpoints.append(message)
        elif isinstance(message, RankExiting):
            self.exit_error = message.error
        elif isinstance(message, RankEnd):
            self.status, self.snapshots, self.error = message.status, message.snapshots, message.error
            self.collective_totals, self.collective_failed = message.collective_totals, message.collective_failed
            return True
        return False

    @property
    def current_call(self) -> int | None:
        """For a rank that did not finish: the call it was in (the first one it never reported)."""
        return None if self.status in (RankStatus.OK, RankStatus.RAISED) else len(self.records)

    @property
    def failure(self) -> ErrorInfo | None:
        """The error that ended this rank's sequence, from setup or from a call."""
        if self.error is not None:
            return self.error
        return next((r.error for r in reversed(self.records) if r.error), None)


@dataclass
class ScenarioResult:
    """A scenario's run. With `restart` ops, the history across the worlds it ran in, and in `uninterrupted`
    the first world's run, which went on without ending (`harness.worlds.restart`)."""

    scenario: Scenario
    outcomes: list[RankOutcome]
    duration_s: float
    deadlock: bool = False
    world_reused: bool = False
    earlier: EarlierRuns = EarlierRuns()
    stall: Stall | None = None
    uninterrupted: ScenarioResult | None = None

    @property
    def world_size(self) -> int:
        return self.scenario.world_size

    @property
    def completed(self) -> bool:
        """Every rank reported the end of its sequence (ok or raised): nothing hung, died or exited."""
        return all(o.status in (RankStatus.OK, RankStatus.RAISED) for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return all(o.status == RankStatus.OK for o in self.outcomes)

    def statuses(self) -> list[str]:
        return [o.status for o in self.outcomes]

    def render(self, output: bool = True) -> str:
        return render_report(self, output=output)


@dataclass(frozen=True)
class Cause:
    """The rank that ended a failed scenario, where it was, and what it did; the other failures follow from it."""

    rank: int
    text: str


def failure_cause(result: ScenarioResult) -> Cause | None:
    """A rank that died, else the rank a stall is blamed on; None when neither ended the scenario."""
    dead = [o for o in result.outcomes if o.status in (RankStatus.EXITED, RankStatus.KILLED)]
    if dead:
        outcome = dead[0]
        what = (
            f"exited with code {outcome.exitcode}"
            if outcome.status == RankStatus.EXITED
            else f"killed by {outcome.signal}"
        )
        frame = frame_in_traceback(outcome.exit_error["traceback"]) if outcome.exit_error else None
        frame = frame or frame_in_stack(outcome.stack)
        return Cause(outcome.rank, f"rank {outcome.rank} {what} in {_call(result, outcome)}{_at(frame)}")
    if result.stall is not None:
        outcome = result.outcomes[result.stall.rank]
        quiet = f"no unfinished rank made progress for {result.stall.window_s:g}s"
        quiet += f" ({result.stall.basis})" if result.stall.basis else ""
        if result.stall.recognised:
            quiet += ", sitting where an earlier stall of this implementation left it after a full window"
        frame = frame_in_stack(outcome.stack)
        return Cause(outcome.rank, f"rank {outcome.rank} stalled in {_call(result, outcome)}{_at(frame)}: {quiet}")
    return None


def _call(result: ScenarioResult, outcome: RankOutcome) -> str:
    return _where(result.scenario.ops_for(outcome.rank), outcome.current_call)


def _at(frame: Frame | None) -> str:
    return f" at {frame}" if frame is not None else ""


def _detail(result: ScenarioResult, outcome: RankOutcome, cause: Cause | None) -> str:
    ops = result.scenario.ops_for(outcome.rank)
    if outcome.status == RankStatus.RAISED and outcome.failure:
        where = _where(ops, len(outcome.records) - 1) if outcome.records else "setup"
        return f"{error_line(outcome.failure, REPORT_LINE_LIMIT)} [{where}]"
    if outcome.status == RankStatus.HUNG:
        call = outcome.current_call
        if result.stall is not None:
            stalled = cause is not None and cause.rank == outcome.rank
            kind = "stalled: made no progress" if stalled else "waiting, no progress"
        else:
            kind = "deadlocked in a collective" if result.deadlock else "past its deadline"
        return f"{kind}, in {_where(ops, call)}" if call is not None else kind
    if outcome.status == RankStatus.KILLED:
        return f"killed by {outcome.signal}, during {_where(ops, outcome.current_call)}"
    if outcome.status == RankStatus.EXITED:
        return f"exited with code {outcome.exitcode}, during {_where(ops, outcome.current_call)}"
    return ""


def _where(ops: list, call: int | None) -> str:
    if call is None or call >= len(ops):
        return "after its last call"
    op = ops[call]
    what = f"{op.op} {op.slot!r}" if op.slot else op.op
    return f"call #{call} {what}"


def render_report(result: ScenarioResult, output: bool = True, timed: bool = True) -> str:
    """The per-rank report; without `timed`, no wall-clock time in it (a certificate's evidence keeps the
    scenario's duration in a field of its own, so the rest is the same on any machine, under any load)."""
    scenario = result.scenario
    verdict = "completed" if result.completed else "FAILED"
    verdict += f" in {result.duration_s:.2f}s" if timed else ""
    cause = failure_cause(result)
    lines = [cause.text] if cause else []
    lines += [
        f"scenario {scenario.name!r} at world size {scenario.world_size}: {verdict}",
        f"{'rank':<5} {'status':<7} {'calls':<7} detail",
    ]
    for o in result.outcomes:
        calls = f"{len(o.records)}/{len(scenario.ops_for(o.rank))}"
        lines.append(f"{o.rank:<5} {o.status:<7} {calls:<7} {_detail(result, o, cause)}")
    tracebacks: dict[tuple[str, str], list[int]] = {}  # ranks that raised the very same traceback: shown once
    for o in sorted(result.outcomes, key=lambda o: cause is None or o.rank != cause.rank):
        if o.exit_error:
            tracebacks.setdefault(("exit traceback", o.exit_error["traceback"].rstrip()), []).append(o.rank)
        if o.status == RankStatus.RAISED and o.failure and o.failure.get("traceback"):
            tracebacks.setdefault(("traceback", o.failure["traceback"].rstrip()), []).append(o.rank)
    for (kind, text), ranks in tracebacks.items():
        who = f"rank {ranks[0]}" if len(ranks) == 1 else f"ranks {', '.join(map(str, ranks))} (the same)"
        lines += [f"--- {who} {kind} ---", text]
    for o in sorted(result.outcomes, key=lambda o: cause is None or o.rank != cause.rank):
        if o.stack:
            lines += [f"--- rank {o.rank} stack ---", o.stack.rstrip()]
        if output and o.output.strip() and not result.completed:
            lines += [f"--- rank {o.rank} output ---", o.output.rstrip()]
    return "\n".join(lines)


def rank_summaries(result: ScenarioResult) -> list[dict[str, Any]]:
    """Each rank's status, calls, error and stack, as data: what a certificate's evidence keeps of the
    report (the scenario file holds the rest, and a replay rebuilds it)."""
    return [
        {
            "rank": o.rank,
            "status": o.status,
            "calls": len(o.records),
            "error": o.failure,
            "exitcode": o.exitcode,
            "signal": o.signal,
            "stack": o.stack,
        }
        for o in result.outcomes
    ]
