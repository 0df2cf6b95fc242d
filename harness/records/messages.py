"""Everything that crosses a pipe between the parent and a rank, in either direction, as typed records:
the one vocabulary of rank.py, world.py, the launcher and the checks.

Parent to rank: `RunScenario` (one scenario for the rank to run) and `StopRank` (leave the world); under a
launcher rank 0 sends the others the same `RunScenario`, then `EndRun` with the certificate. `encode` and
`decode` are the one way either side turns a record into bytes and back.

Rank to parent: a rank sends `Ready` once its world is up, then per scenario `SetUp` once its adapter and slots are
built, one `CallRecord` per call as soon as the
call ends (so a rank that later hangs or dies still leaves its history), a `RankExiting` when the
implementation exits the process, and a `RankEnd`. At a `restart` op rank 0 also sends its checkpoints
(`RestartCheckpoint`), which the parent carries to the new world in the same record.
`RankOutcome.apply` (harness.records.report) is the one place that folds them into a rank's outcome. Every record
stays JSON-able through `dataclasses.asdict`.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .statuses import RankStatus

if TYPE_CHECKING:
    from .scenario import Scenario


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
    """One collective a rank entered during a call, as `harness.records.fingerprints` describes it: `seq` is
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
    (`harness.rankside.resume.ResumeStep`), `restart` what a `restart` op checkpointed or restored, per slot
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

    status: RankStatus
    snapshots: dict[str, Any]
    error: ErrorInfo | None
    collective_totals: dict[str, int]
    collective_failed: bool


Message = Ready | SetUp | CallRecord | RestartCheckpoint | RankExiting | RankEnd
"""What a rank sends its parent."""


@dataclass
class RunScenario:
    """Run `scenario` with the implementation `impl` (an adapter's import path), then wait for the next.
    With `restart`, the rank's world was started after a restart and runs the part that follows it."""

    impl: str
    scenario: Scenario
    restart: RestartCheckpoint | None = None


@dataclass
class StopRank:
    """Leave the world: destroy the process group and end the process."""


@dataclass
class EndRun:
    """The end of a launcher's run, from rank 0 to the others: its certificate (None when it has none)
    and why the launcher's world was lost, if it was."""

    certificate: dict | None
    lost: str | None


ToRank = RunScenario | StopRank | EndRun
"""What the parent (or, under a launcher, rank 0) sends a rank."""


def encode(message: Message | ToRank) -> bytes:
    """`message` as bytes for a pipe. dill only for a scenario with a gate callable: it costs ~0.25 ms more
    than pickle per scenario, ~15% of a warm round trip."""
    if isinstance(message, RunScenario) and message.scenario.decide is not None:
        import dill

        return dill.dumps(message)
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Message | ToRank:
    """The record `encode` made of `data` (dill reads what pickle wrote, too)."""
    import dill

    return dill.loads(data)


ModelStatus = Literal["trained", "skipped", "mismatch", "failed", "no gradient", "graph changed"]
TRAINED: ModelStatus = "trained"
SKIPPED: ModelStatus = "skipped"
MISMATCH: ModelStatus = "mismatch"
FAILED: ModelStatus = "failed"
NO_GRADIENT: ModelStatus = "no gradient"
GRAPH_CHANGED: ModelStatus = "graph changed"
PROBE_OUTPUT = "probe output"


@dataclass
class ModelStep:
    """One rank's model after one call, kept in the call record as a plain dict under `model`.

    `digests` has every parameter and buffer by name, and `PROBE_OUTPUT`; `heads` their first values.
    `ungraded` names the trainable parameters the step left without a gradient; `stages` each slot's
    stage by its key in the host network (`slots.<key>.`); `used_before`, after a `GRAPH_CHANGED`
    step, the parameters without a gradient in the steps since DDP was last built. It lives here, not
    in `harness.rankside.model_host`, so that the parent reads it without importing torch.
    """

    status: ModelStatus
    mode: str
    built: bool = False
    reason: str = ""
    config: str = ""
    ungraded: list[str] = field(default_factory=list)
    used_before: list[str] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)
    params: list[list] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    heads: dict[str, list[float]] = field(default_factory=dict)
    error: dict | None = None

    def to_record(self) -> dict:
        """Shallow: every field holds values built for this step alone, and `dataclasses.asdict`'s deep copy
        of the digests and heads cost a tenth of a step's time on the rank."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def from_record(cls, record: CallRecord | None) -> ModelStep | None:
        model = record.model if record is not None else None
        return None if model is None else cls(**model)
