"""What a rank sends its parent, as typed records: the one vocabulary of rank.py, world.py, the launcher
and the checks.

A rank sends `Ready` once its world is up, then per scenario `SetUp` once its adapter and slots are
built, one `CallRecord` per call as soon as the
call ends (so a rank that later hangs or dies still leaves its history), a `RankExiting` when the
implementation exits the process, and a `RankEnd`. At a `restart` op rank 0 also sends its checkpoints
(`RestartCheckpoint`), which the parent carries to the new world in the same record.
`RankOutcome.apply` (harness.report) is the one place that folds them into a rank's outcome. Every record
stays JSON-able through `dataclasses.asdict`.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from typing import Any, TypedDict


class ErrorInfo(TypedDict):
    """An exception, as it crosses the pipe and lands in evidence."""

    type: str
    qualname: str
    message: str
    traceback: str
    in_collective: bool


def error_info(exc: BaseException, in_collective: bool = False) -> ErrorInfo:
    """`exc` as an `ErrorInfo`; `in_collective` when it escaped a failed collective."""
    kind = type(exc)
    return ErrorInfo(
        type=kind.__name__,
        qualname=f"{kind.__module__}.{kind.__qualname__}",
        message=str(exc),
        traceback="".join(traceback.format_exception(kind, exc, exc.__traceback__)),
        in_collective=in_collective,
    )


SOURCE_LOCATION = re.compile(r"^\[[^]]*\]\s*")
ERROR_LINE_LIMIT = 200


def error_line(error: ErrorInfo, limit: int = ERROR_LINE_LIMIT) -> str:
    """The one line users read for an error: its type and message, whitespace collapsed, without the
    C++ source location gloo puts first, cut to `limit` characters."""
    message = SOURCE_LOCATION.sub("", " ".join(str(error["message"]).split()))
    line = f"{error['type']}: {message}"
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Collective(TypedDict):
    """One collective a rank entered during a call, as `harness.fingerprints` describes it: `seq` is
    its position within the call, `peer` its source, root or destination rank, `tensors` the sizes and
    dtypes it was given ("[512] uint8"), `payload` an object collective's pickled bytes, `returned`
    whether it came back (False: it raised)."""

    op: str
    group: str
    seq: int
    peer: int | None
    reduce: str | None
    tensors: list[str]
    payload: int | None
    returned: bool


@dataclass
class Ready:
    """The rank joined its world and waits for scenarios."""

    pid: int


@dataclass
class SetUp:
    """The rank built the adapter and the scenario's slots: from here, silence is a stall."""


@dataclass
class CallRecord:
    """One call of one rank: what it was asked, what the adapter reported, what it cost.

    `local` holds every local gate result the rank evaluated during the call (result-field dicts),
    `result` the result the call returned, `collectives` the collectives it entered by kind, `entered`
    their fingerprints in order, `contract`
    a value the adapter reported outside the contract (then the call cannot be judged), `model` the
    model step the `ddp` profile took after the call, `resume` what a `resume` op restored
    (`harness.resume.ResumeStep`), `restart` what a `restart` op checkpointed or restored, per slot
    (the same record)."""

    index: int
    op: str
    slot: str | None
    target: int | None
    skipped: bool = False
    stage_before: int | None = None
    stage_after: int | None = None
    local: list[dict] = field(default_factory=list)
    result: dict | None = None
    same_object: bool | None = None
    error: ErrorInfo | None = None
    collectives: dict[str, int] = field(default_factory=dict)
    entered: list[Collective] = field(default_factory=list)
    snapshot: dict | None = None
    elapsed_s: float = 0.0
    contract: str | None = None
    model: dict | None = None
    resume: dict | None = None
    restart: dict[str, dict] | None = None


@dataclass
class RestartCheckpoint:
    """Rank 0's checkpoint of every slot at the `restart` op `call`, as `torch.save` wrote it: sent to the
    parent, which ends the world and hands the same record to every rank of the new one. The bytes stay
    out of the call records, so they never reach a certificate."""

    call: int
    slots: dict[str, bytes]


@dataclass
class RankExiting:
    """The implementation is ending the rank's process (`sys.exit`): where it happened."""

    error: ErrorInfo


@dataclass
class RankEnd:
    """The end of the rank's scenario: how it ended, every slot's final snapshot, and its collectives."""

    status: str
    snapshots: dict[str, Any]
    error: ErrorInfo | None
    collective_totals: dict[str, int]
    collective_failed: bool


Message = Ready | SetUp | CallRecord | RestartCheckpoint | RankExiting | RankEnd
