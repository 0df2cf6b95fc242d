"""Scenarios as data: world size, slots, per-rank call sequences and per-rank gate inputs.

A scenario serialises to JSON, so a failing one can be saved and replayed
(`python -m harness replay FILE`). Symmetric is the default: `ops` is every rank's sequence, and
`rank_ops` overrides it for the ranks named there (asymmetric sequences, to test faults).

An `advance` op carries each rank's local gate decision in `local`: omitted (every rank passes),
one value for every rank, or a list with one value per rank. A value is a bool (`passed`), a dict
of gate-result fields (the rest filled in per rank and call, see `harness.records.decisions`), or a fault
to run inside the gate evaluation (`{"fault": "kill"}`). With `gates: "real"` the implementation's
own gates decide, from per-rank `metrics`. `Scenario.decide`, a Python callable, is the one input that
does not serialise: it may be any closure or lambda (the ranks receive it through dill).
A `step_epoch` op with `until_empty: N` ticks the slot's epoch clock until it holds no seed (or a
DORMANT one), at most N times, as one call: a scenario that needs an empty slot after a prune
observes the cool-down instead of assuming its length (every rank stops at the same tick, since
the cool-down is part of the lifecycle every rank shares).
A `resume` op replaces its slot with a fresh one restored from a checkpoint (`harness.rankside.resume`): the
rank's own, or with `source` that rank's, sent to every rank as a restarted job reads one file; with
`origin`, the checkpoint of that other slot, restored into a fresh slot made for `origin`'s id (a fork:
two slots that hold the same seed, whatever the implementation's initialisation).
A `restart` op (no slot) ends the world there as an elastic restart does: every rank checkpoints every
slot, every rank process exits, a new world of the same size starts (fresh processes, process group and
slots), every rank restores rank 0's checkpoints and the scenario goes on (`harness.worlds.restart`, which also
lets the first world go on uninterrupted, for comparison). It is a call of every rank, in `ops` only.
With `model` set, every rank also trains a host network built from the slots' modules after each
call all ranks made (`harness.rankside.model_host`; the adapter must declare `module`), wrapped in DDP as
the configuration `ddp` names (`harness.records.ddp_configs`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ScenarioError
from . import payloads
from .contract import Stage, parse_stage
from .ddp_configs import CONFIGS, FIND_UNUSED

MAX_WORLD_SIZE = 16
"""The most ranks a scenario may have: what a world of this harness can start."""
MAX_CERTIFY_WORLD_SIZE = 8
"""The most ranks a certification runs at (`--world-sizes`, `certify(world_sizes=...)`)."""
OPS = ("germinate", "advance", "prune", "step_epoch", "fault", "resume", "restart")
SLOTLESS = ("fault", "restart")
FAULTS = ("raise", "exit", "kill", "sleep", "collective")
ENDING_FAULTS = ("exit", "kill")
GATE_MODES = ("scripted", "real")
PAYLOAD_NAMES = tuple(payloads.NAMED)
MAX_SECONDS = 3600.0
MAX_UNTIL_EMPTY = 1000
FAULT_PARAMETERS = {"seconds", "code", "message", "kind", "fault"}


def per_rank(value: Any, rank: int) -> Any:
    """`value` as rank `rank` sees it: one shared value, or this rank's entry of a per-rank list."""
    return value[rank] if isinstance(value, list) else value


@dataclass(frozen=True)
class GateQuery:
    """What a `Scenario.decide` callable is asked: whose gate, for which call and target."""

    rank: int
    call: int
    slot: str
    target: int


@dataclass
class Op:
    op: str
    slot: str | None = None
    target: int | None = None
    local: Any = None
    metrics: Any = None
    seed_id: str | None = None
    blueprint_id: str | None = None
    fault: dict | None = None
    ranks: list[int] | None = None
    continue_on_error: bool = False
    until_empty: int | None = None
    source: int | None = None
    origin: str | None = None

    def applies_to(self, rank: int) -> bool:
        return self.ranks is None or rank in self.ranks

    @property
    def call_key(self) -> tuple[str, str | None, int | None]:
        """What makes two ranks' calls the same call, for pairing their sync rounds: op, slot and target."""
        return self.op, self.slot, self.target

    def label(self, index: int) -> str:
        """How a user reads this op as call `index` of a sequence: `call #3 advance 'a'`."""
        return f"call #{index} {self.op} {self.slot!r}" if self.slot else f"call #{index}"

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"op": self.op}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "op" or value == f.default:
                continue
            out[f.name] = Stage(value).name if f.name == "target" else value
        return out


@dataclass
class Scenario:
    name: str
    world_size: int
    slots: list[str]
    ops: list[Op]
    rank_ops: dict[int, list[Op]] = field(default_factory=dict)
    gates: str = "scripted"
    process_group: bool = True
    deadline_s: float | None = None
    model: bool = False
    ddp: str = FIND_UNUSED
    decide: Callable[[GateQuery], Any] | None = None

    def ops_for(self, rank: int) -> list[Op]:
        return self.rank_ops.get(rank, self.ops)

    def ends_a_process(self) -> bool:
        """Whether a fault ends some rank's process on purpose (exits or kills it, as an op or inside a
        gate evaluation): what a world whose processes the harness does not own cannot survive."""
        for rank in range(self.world_size):
            for op in self.ops_for(rank):
                if not op.applies_to(rank):
                    continue
                fault = op.fault if op.op == "fault" else per_rank(op.local, rank) if op.op == "advance" else None
                if isinstance(fault, dict) and (fault.get("fault") or fault.get("kind")) in ENDING_FAULTS:
                    return True
        return False

    @property
    def restarts(self) -> list[int]:
        """The call indices of the `restart` ops."""
        return [index for index, op in enumerate(self.ops) if op.op == "restart"]

    def validate(self) -> Scenario:
        ws = self.world_size
        if isinstance(ws, bool) or not isinstance(ws, int) or not 1 <= ws <= MAX_WORLD_SIZE:
            raise ScenarioError(f"world size must be an integer from 1 to {MAX_WORLD_SIZE}, got {ws!r}")
        if not self.process_group and ws != 1:
            raise ScenarioError("a scenario without a process group runs at world size 1 only")
        if self.gates not in GATE_MODES:
            raise ScenarioError(f"gates must be one of {', '.join(GATE_MODES)}, got {self.gates!r}")
        if not isinstance(self.name, str):
            raise ScenarioError(f"name must be a string, got {self.name!r}")
        if not isinstance(self.process_group, bool):
            raise ScenarioError(f"process_group must be true or false, got {self.process_group!r}")
        if self.deadline_s is not None:
            _check_seconds("deadline_s", self.deadline_s, positive=True)
        if self.ddp not in CONFIGS:
            raise ScenarioError(f"ddp must be one of {', '.join(CONFIGS)}, got {self.ddp!r}")
        slots_ok = isinstance(self.slots, list) and all(isinstance(s, str) and s for s in self.slots)
        if not slots_ok or len(set(self.slots)) != len(self.slots):
            raise ScenarioError(f"slots must be distinct non-empty strings in a list, got {self.slots!r}")
        for rank in self.rank_ops:
            if not isinstance(rank, int) or not 0 <= rank < ws:
                raise ScenarioError(f"rank_ops names rank {rank!r}, outside world size {ws}")
        for rank in range(ws):
            for index, op in enumerate(self.ops_for(rank)):
                self._validate_op(op, f"rank {rank} op #{index}")
        if self.restarts and self.rank_ops:
            raise ScenarioError("a scenario with a restart op runs the same ops on every rank: it has no rank_ops")
        if self.restarts and self.model:
            raise ScenarioError("a scenario with a restart op trains no model: the host network is not checkpointed")
        return self

    def _validate_op(self, op: Op, where: str) -> None:
        if op.op not in OPS:
            raise ScenarioError(f"{where}: unknown op {op.op!r} (known: {', '.join(OPS)})")
        _check_op_types(op, where)
        if op.op == "restart" and (op.slot is not None or op.ranks is not None):
            raise ScenarioError(f"{where}: a restart op ends the whole world: it names no slot and no ranks")
        if op.op not in SLOTLESS and op.slot not in self.slots:
            raise ScenarioError(f"{where}: unknown slot {op.slot!r} (scenario slots: {self.slots})")
        try:
            op.target = parse_stage(op.target)
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        for name in ("local", "metrics"):
            value = getattr(op, name)
            if isinstance(value, list) and len(value) != self.world_size:
                raise ScenarioError(f"{where}: {name} has {len(value)} entries for world size {self.world_size}")
        if op.ranks is not None and any(not 0 <= r < self.world_size for r in op.ranks):
            raise ScenarioError(f"{where}: ranks {op.ranks} outside world size {self.world_size}")
        if op.op == "fault":
            _check_fault(op.fault or {}, (op.fault or {}).get("kind"), where)
        source = op.source
        if source is not None and (op.op != "resume" or not _is_rank(source) or not 0 <= source < self.world_size):
            raise ScenarioError(f"{where}: source must be a rank of a resume op, got {source!r}")
        if op.origin is not None and (op.op != "resume" or op.origin not in self.slots or op.origin == op.slot):
            raise ScenarioError(f"{where}: origin must name another slot of a resume op, got {op.origin!r}")
        for decision in op.local if isinstance(op.local, list) else [op.local]:
            _check_decision(decision, where)

    def to_dict(self) -> dict:
        if self.decide is not None:
            raise ScenarioError(f"scenario {self.name!r} has a Python gate callable, which JSON cannot hold")
        out: dict[str, Any] = {
            "name": self.name,
            "world_size": self.world_size,
            "slots": list(self.slots),
            "ops": [op.to_dict() for op in self.ops],
        }
        if self.rank_ops:
            out["rank_ops"] = {str(r): [op.to_dict() for op in ops] for r, ops in self.rank_ops.items()}
        if self.gates != "scripted":
            out["gates"] = self.gates
        if not self.process_group:
            out["process_group"] = False
        if self.deadline_s is not None:
            out["deadline_s"] = self.deadline_s
        if self.model:
            out["model"] = True
        if self.ddp != FIND_UNUSED:
            out["ddp"] = self.ddp
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: Any) -> Scenario:
        if not isinstance(data, dict):
            raise ScenarioError("a scenario must be a JSON object")
        known = {
            *("name", "world_size", "slots", "ops", "rank_ops", "gates", "process_group", "deadline_s", "model", "ddp")
        }
        unknown = set(data) - known
        if unknown:
            raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(unknown))}")
        missing = {"world_size", "slots", "ops"} - set(data)
        if missing:
            raise ScenarioError(f"scenario lacks {', '.join(sorted(missing))}")
        rank_ops_data = data.get("rank_ops", {})
        if not isinstance(rank_ops_data, dict):
            raise ScenarioError(f"rank_ops must be an object of rank: ops, got {rank_ops_data!r}")
        try:
            rank_ops = {int(r): _ops(ops) for r, ops in rank_ops_data.items()}
        except ValueError as exc:
            raise ScenarioError(f"rank_ops: {exc}") from None
        return cls(
            name=data.get("name", "unnamed"),
            world_size=data["world_size"],
            slots=data["slots"],
            ops=_ops(data["ops"]),
            rank_ops=rank_ops,
            gates=data.get("gates", "scripted"),
            process_group=data.get("process_group", True),
            deadline_s=data.get("deadline_s"),
            model=bool(data.get("model", False)),
            ddp=data.get("ddp", FIND_UNUSED),
        ).validate()

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"malformed scenario JSON: {exc}") from None
        except RecursionError:
            raise ScenarioError("malformed scenario JSON: nested too deeply") from None
        return cls.from_dict(data)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_seconds(name: str, value: Any, positive: bool = False) -> None:
    in_range = _is_number(value) and (value > 0 if positive else value >= 0) and value <= MAX_SECONDS
    if not in_range:
        bound = "above 0" if positive else "from 0"
        raise ScenarioError(f"{name} must be a number of seconds {bound} to {MAX_SECONDS:.0f}, got {value!r}")


def _check_op_types(op: Op, where: str) -> None:
    """Each op field holds what its name promises, so a bad file fails here, not on a rank."""
    for name in ("slot", "seed_id", "blueprint_id"):
        value = getattr(op, name)
        if value is not None and not isinstance(value, str):
            raise ScenarioError(f"{where}: {name} must be a string, got {value!r}")
    if not isinstance(op.continue_on_error, bool):
        raise ScenarioError(f"{where}: continue_on_error must be true or false, got {op.continue_on_error!r}")
    ranks = op.ranks
    if ranks is not None and (not isinstance(ranks, list) or not all(_is_rank(r) for r in ranks)):
        raise ScenarioError(f"{where}: ranks must be a list of rank numbers, got {ranks!r}")
    bound = op.until_empty
    if bound is not None and (not _is_rank(bound) or not 1 <= bound <= MAX_UNTIL_EMPTY or op.op != "step_epoch"):
        raise ScenarioError(
            f"{where}: until_empty must be a step_epoch's tick bound from 1 to {MAX_UNTIL_EMPTY}, got {bound!r}"
        )
    if op.fault is not None and not isinstance(op.fault, dict):
        raise ScenarioError(f"{where}: fault must be an object, got {op.fault!r}")
    for metrics in op.metrics if isinstance(op.metrics, list) else [op.metrics]:
        if metrics is not None and not isinstance(metrics, dict):
            raise ScenarioError(f"{where}: metrics must be an object (or one per rank), got {metrics!r}")


def _is_rank(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_decision(decision: Any, where: str) -> None:
    """A local gate decision: omitted, a bool, a dict of result fields, or a fault to run."""
    if decision is None or isinstance(decision, bool):
        return
    if not isinstance(decision, dict):
        raise ScenarioError(f"{where}: a local decision must be true, false or an object, got {decision!r}")
    if "fault" in decision:
        _check_fault(decision, decision["fault"], where)
    elif "passed" in decision and not isinstance(decision["passed"], bool):
        raise ScenarioError(f"{where}: passed must be true or false, got {decision['passed']!r}")
    elif not _known_payload(decision.get("payload", "plain")):
        raise ScenarioError(
            f"{where}: unknown payload {decision['payload']!r} (known: {', '.join(PAYLOAD_NAMES)}, or generated"
            f" as bytes:SEED:LENGTH or chars:SEED:LENGTH, LENGTH up to {payloads.MAX_LENGTH})"
        )


def _known_payload(payload: Any) -> bool:
    return payload in PAYLOAD_NAMES or (isinstance(payload, str) and payloads.parse(payload) is not None)


def _check_fault(fault: dict, kind: Any, where: str) -> None:
    if kind not in FAULTS:
        raise ScenarioError(f"{where}: fault kind must be one of {', '.join(FAULTS)}, got {fault!r}")
    unknown = set(fault) - FAULT_PARAMETERS
    if unknown:
        raise ScenarioError(f"{where}: unknown fault parameters {', '.join(sorted(unknown))}")
    if "seconds" in fault:
        _check_seconds(f"{where}: fault seconds", fault["seconds"])
    code = fault.get("code", 0)
    if not _is_rank(code) or not 0 <= code <= 255:
        raise ScenarioError(f"{where}: fault exit code must be an integer from 0 to 255, got {code!r}")
    if not isinstance(fault.get("message", ""), str):
        raise ScenarioError(f"{where}: fault message must be a string, got {fault['message']!r}")


def _ops(items: Any) -> list[Op]:
    if not isinstance(items, list):
        raise ScenarioError("ops must be a list")
    names = {f.name for f in dataclasses.fields(Op)}
    ops = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "op" not in item:
            raise ScenarioError(f"op #{index} must be an object with an 'op' key, got {item!r}")
        unknown = set(item) - names
        if unknown:
            raise ScenarioError(f"op #{index}: unknown keys {', '.join(sorted(unknown))}")
        try:
            target = parse_stage(item.get("target"))
        except ValueError as exc:
            raise ScenarioError(f"op #{index}: {exc}") from None
        ops.append(Op(**{**item, "target": target}))
    return ops
