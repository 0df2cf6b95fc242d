"""Judging one scenario's result against one clause: the function certify, replay and the pytest route share.

`judge_scenario` gives a scenario's status, its judged and unjudged calls and the reason a user reads, so a
replay of a saved scenario says exactly what the certificate said about it. When calls went unjudged,
`first_unjudged` names what ended them, in one vocabulary: a rank *raised* (type, message and the
implementation's frame), *hung* (stalled or deadlocked), *died* (exited or was killed), or *stopped* (its
call ended in a collective another rank's failure broke).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace

from ...records.messages import error_line
from ...records.report import RankOutcome, ScenarioResult, failure_cause
from ...records.stacks import Frame, frame_in_stack, frame_in_traceback
from ...records.statuses import ClauseStatus, RankStatus
from ..clauses import Clause
from .checks import Judgement, Violation, divergence


class UnreadableResult(Exception):
    """A check could not read a result (a value no adapter validation caught); the clause is an error."""


def judge(clause: Clause, result: ScenarioResult) -> Judgement:
    try:
        return clause.check(result)
    except Exception as exc:
        raise UnreadableResult(f"the check could not read the results: {type(exc).__name__}: {exc}") from exc


def unusable(result: ScenarioResult) -> str | None:
    """Why `result` cannot be judged at all: a rank that could not set up, or a value the adapter
    reported outside the contract. None when it can be."""
    setup = next((o for o in result.outcomes if o.error is not None), None)
    if setup is not None:
        frame = _where(frame_in_traceback(setup.error["traceback"]))
        return f"rank {setup.rank} could not set up: {error_line(setup.error)}" + (f" (at {frame})" if frame else "")
    for outcome in result.outcomes:
        for record in outcome.records:
            if record.contract:
                return f"rank {outcome.rank} call #{record.index}: {record.contract}"
    return None


@dataclass(frozen=True)
class UnjudgedCall:
    """What ended the judged part of a scenario: the rank, the call, and what happened there."""

    scenario: str
    world_size: int
    rank: int
    call: int
    op: str
    event: str
    detail: str

    @property
    def text(self) -> str:
        return f"at call #{self.call} {self.op}, {self.detail}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScenarioVerdict:
    """One scenario judged for one clause: the same on every route that judges it."""

    scenario: str
    world_size: int
    status: ClauseStatus
    judged: int = 0
    unjudged: int = 0
    reason: str = ""
    violations: list[Violation] = field(default_factory=list)
    unjudged_call: UnjudgedCall | None = None

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "world_size": self.world_size,
            "status": self.status,
            "judged": self.judged,
            "unjudged": self.unjudged,
        }


def judge_scenario(clause: Clause, result: ScenarioResult, kind: str | None = None) -> ScenarioVerdict:
    """`result` judged for `clause`. A failure's reason is its first violation (of `kind` when given: the
    kind a shrunk scenario was kept for); an incomplete one's names the call where judging stopped."""
    scenario = result.scenario
    verdict = ScenarioVerdict(scenario.name, scenario.world_size, ClauseStatus.PASS)
    problem = unusable(result)
    judgement = Judgement()
    if problem is None:
        try:
            judgement = judge(clause, result)
        except UnreadableResult as exc:
            problem = str(exc)
    if problem is not None:
        verdict.status, verdict.reason = ClauseStatus.ERROR, f"{scenario.name}: {problem}"
        return verdict
    verdict.judged, verdict.unjudged = judgement.judged, judgement.unjudged
    violations = judgement.violations
    verdict.violations = [v for v in violations if v.kind == kind] + [v for v in violations if v.kind != kind]
    if verdict.violations:
        first = verdict.violations[0]
        verdict.violations[0] = replace(first, text=first.text + diverged_before(result, first.call))
        verdict.status, verdict.reason = ClauseStatus.FAIL, str(verdict.violations[0])
    elif verdict.unjudged and judgement.unjudged_reason:
        verdict.status = ClauseStatus.INCOMPLETE
        verdict.reason = incomplete_reason(verdict, judgement.unjudged_reason)
    elif verdict.unjudged:
        verdict.status = ClauseStatus.INCOMPLETE
        verdict.unjudged_call = first_unjudged(result)
        found = verdict.unjudged_call
        verdict.reason = incomplete_reason(verdict, diverged=diverged_before(result, found.call) if found else "")
    elif verdict.judged and judgement.exercised == 0:
        verdict.status = ClauseStatus.NOT_EXERCISED
        verdict.reason = f"{scenario.name}: {judgement.unexercised or 'nothing the clause judges happened'}"
    return verdict


def diverged_before(result: ScenarioResult, call: int | None) -> str:
    """The ranks' earlier divergence, as a clause to add to a reason about `call` ("" when the lifecycles had
    not diverged before it): a rank that hangs, dies or runs other collectives after the ranks parted is most
    likely its consequence, so the user fixes the divergence first."""
    found = divergence(result) if call is not None else None
    if found is None or found.call >= call:
        return ""
    return f"; before that, the ranks' lifecycles had diverged: {found.text}, which C1 reports: fix that first"


def judged_counts(judged: int, unjudged: int, always: bool = True) -> str:
    """How many calls were judged and how many not, in the words every route prints (`always`: the second
    count even when it is 0, as replay and the pytest route print it, to compare with the certificate)."""
    return f"{judged} calls judged" + (f", {unjudged} not judged" if unjudged or always else "")


def incomplete_reason(verdict: ScenarioVerdict, cause: str = "", diverged: str = "") -> str:
    """The calls never judged and why: `cause` when the check gave one, else the call where judging stopped
    (and `diverged`, the earlier divergence it likely follows from)."""
    total = verdict.judged + verdict.unjudged
    where = f"{verdict.unjudged} of the {total} calls this clause reads in scenario {verdict.scenario!r}"
    found = verdict.unjudged_call
    cause = cause or (f"judging stopped {found.text}{diverged}" if found else "no rank reported them")
    return f"{where} were never judged: {cause}; no violation among the others"


def first_unjudged(result: ScenarioResult) -> UnjudgedCall | None:
    """The event that left calls unjudged: a rank that died or hung, else the earliest call that raised
    (its own error before one that only a broken collective caused)."""
    cause = failure_cause(result)
    if cause is not None:
        outcome = result.outcomes[cause.rank]
        event = "hung" if outcome.status == RankStatus.HUNG else "died"
        return _unjudged(result, outcome, outcome.current_call or 0, event, _death_or_hang(result, outcome))
    raised = [
        (record.error["in_collective"], record.index, outcome.rank, record)
        for outcome in result.outcomes
        for record in outcome.records
        if record.error is not None
    ]
    if raised:
        in_collective, index, rank, record = min(raised, key=lambda r: r[:3])
        same = [r for c, i, r, rec in raised if i == index and rec.error["type"] == record.error["type"]]
        if in_collective:
            detail = f"{_ranks(same)}'s collective failed: {error_line(record.error)}"
            return _unjudged(result, result.outcomes[rank], index, "stopped", detail)
        frame = _where(frame_in_traceback(record.error["traceback"]))
        stopped = all(len(result.outcomes[r].records) == index + 1 for r in same)
        detail = f"{_ranks(same)} raised {error_line(record.error)}" + (f" (at {frame})" if frame else "")
        detail += ", and stopped there" if stopped and len(result.scenario.ops_for(rank)) > index + 1 else ""
        return _unjudged(result, result.outcomes[rank], index, "raised", detail)
    hung = [o for o in result.outcomes if o.status == RankStatus.HUNG]
    if hung:
        outcome = hung[0]
        what = "deadlocked in a collective" if result.deadlock else "did not finish before its deadline"
        return _unjudged(result, outcome, outcome.current_call or 0, "hung", f"rank {outcome.rank} hung: {what}")
    return None


def _death_or_hang(result: ScenarioResult, outcome: RankOutcome) -> str:
    if outcome.status == RankStatus.EXITED:
        what = f"died: it exited with code {outcome.exitcode}"
    elif outcome.status == RankStatus.KILLED:
        what = f"died: it was killed by {outcome.signal}"
    else:
        what = "hung: it made no progress, and no other rank did"
    frame = frame_in_traceback(outcome.exit_error["traceback"]) if outcome.exit_error else None
    frame = _where(frame or frame_in_stack(outcome.stack))
    return f"rank {outcome.rank} {what}" + (f" (at {frame})" if frame else "")


def _where(frame: Frame | None) -> str | None:
    """The implementation's frame, by absolute path: the same words whichever folder a route runs in."""
    return f"{os.path.abspath(frame.file)}:{frame.line} in {frame.function}" if frame is not None else None


def _ranks(ranks: list[int]) -> str:
    return f"rank {ranks[0]}" if len(ranks) == 1 else f"ranks {', '.join(map(str, sorted(ranks)))}"


def _unjudged(result: ScenarioResult, outcome: RankOutcome, call: int, event: str, detail: str) -> UnjudgedCall:
    ops = result.scenario.ops_for(outcome.rank)
    op = ops[call] if call < len(ops) else None
    label = (f"{op.op} {op.slot!r}" if op.slot else op.op) if op is not None else "after the last call"
    scenario = result.scenario
    return UnjudgedCall(scenario.name, scenario.world_size, outcome.rank, call, label, event, detail)


def unjudged_lines(result: ScenarioResult) -> list[str]:
    """Per rank, the calls it never reported or that ended in a broken collective, and why."""
    lines = []
    for outcome in result.outcomes:
        total = len(result.scenario.ops_for(outcome.rank))
        broken = [r.index for r in outcome.records if r.error is not None and r.error["in_collective"]]
        if broken:
            lines.append(f"rank {outcome.rank}: call(s) {_span(broken)} ended in a failed collective")
        done = len(outcome.records)
        if done < total:
            last = outcome.records[-1] if outcome.records else None
            broke = last is not None and last.error is not None and last.error["in_collective"]
            ended = "ended in a failed collective" if broke else "raised"
            why = {
                RankStatus.RAISED: f"it stopped after call #{done - 1} {ended}",
                RankStatus.HUNG: f"it hung in call #{done}",
                RankStatus.EXITED: f"it died in call #{done} (exit code {outcome.exitcode})",
                RankStatus.KILLED: f"it died in call #{done} ({outcome.signal})",
            }.get(outcome.status, "it reported no more calls")
            lines.append(f"rank {outcome.rank}: calls #{done}-#{total - 1} never reported: {why}")
    return lines


def _span(indices: list[int]) -> str:
    return ", ".join(f"#{i}" for i in indices)
