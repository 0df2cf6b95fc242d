"""Scenarios as data: world size, slots, per-rank call sequences and per-rank gate inputs.

A scenario serialises to JSON, so a failing one can be saved and replayed
(`python -m harness replay FILE`). Symmetric is the default: `ops` is every rank's sequence, and
`rank_ops` overrides it for the ranks named there (asymmetric sequences, to test faults).

An `advance` op carries each rank's local gate decision in `local`: omitted (every rank passes),
one value for every rank, or a list with one value per rank. A value is a bool (`passed`), a dict
of gate-result fields (the rest filled in per rank and call, see `harness.decisions`), or a fault
to run inside the gate evaluation (`{"fault": "kill"}`). With `gates: "real"` the implementation's
own gates decide, from per-rank `metrics`. `Scenario.gate`, a Python callable, is the one input that
does not serialise: it may be any closure or lambda (the ranks receive it through dill).
With `model` set, every rank also trains a host network built from the slots' modules after each
call all ranks made (`harness.model_host`; the adapter must declare `module`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.contract import Stage, parse_stage

MAX_WORLD_SIZE = 16
OPS = ("germinate", "advance", "prune", "step_epoch", "fault")
FAULTS = ("raise", "exit", "kill", "sleep", "collective")
GATE_MODES = ("scripted", "real")


def per_rank(value: Any, rank: int) -> Any:
    """`value` as rank `rank` sees it: one shared value, or this rank's entry of a per-rank list."""
    return value[rank] if isinstance(value, list) else value


class ScenarioError(ValueError):
    """A scenario that cannot run; the message is one line naming what is wrong."""


@dataclass(frozen=True)
class GateQuery:
    """What a `Scenario.gate` callable is asked: whose gate, for which call and target."""

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

    def applies_to(self, rank: int) -> bool:
        return self.ranks is None or rank in self.ranks

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
    gate: Callable[[GateQuery], Any] | None = None

    def ops_for(self, rank: int) -> list[Op]:
        return self.rank_ops.get(rank, self.ops)

    def validate(self) -> Scenario:
        ws = self.world_size
        if isinstance(ws, bool) or not isinstance(ws, int) or not 1 <= ws <= MAX_WORLD_SIZE:
            raise ScenarioError(f"world size must be an integer from 1 to {MAX_WORLD_SIZE}, got {ws!r}")
        if not self.process_group and ws != 1:
            raise ScenarioError("a scenario without a process group runs at world size 1 only")
        if self.gates not in GATE_MODES:
            raise ScenarioError(f"gates must be one of {', '.join(GATE_MODES)}, got {self.gates!r}")
        if len(set(self.slots)) != len(self.slots) or not all(isinstance(s, str) for s in self.slots):
            raise ScenarioError(f"slots must be distinct strings, got {self.slots!r}")
        for rank in self.rank_ops:
            if not isinstance(rank, int) or not 0 <= rank < ws:
                raise ScenarioError(f"rank_ops names rank {rank!r}, outside world size {ws}")
        for rank in range(ws):
            for index, op in enumerate(self.ops_for(rank)):
                self._validate_op(op, f"rank {rank} op #{index}")
        return self

    def _validate_op(self, op: Op, where: str) -> None:
        if op.op not in OPS:
            raise ScenarioError(f"{where}: unknown op {op.op!r} (known: {', '.join(OPS)})")
        if op.op != "fault" and op.slot not in self.slots:
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
        if op.op == "fault" and (op.fault or {}).get("kind") not in FAULTS:
            raise ScenarioError(f"{where}: fault kind must be one of {', '.join(FAULTS)}, got {op.fault!r}")

    def to_dict(self) -> dict:
        if self.gate is not None:
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
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: Any) -> Scenario:
        if not isinstance(data, dict):
            raise ScenarioError("a scenario must be a JSON object")
        known = {"name", "world_size", "slots", "ops", "rank_ops", "gates", "process_group", "deadline_s", "model"}
        unknown = set(data) - known
        if unknown:
            raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(unknown))}")
        missing = {"world_size", "slots", "ops"} - set(data)
        if missing:
            raise ScenarioError(f"scenario lacks {', '.join(sorted(missing))}")
        try:
            rank_ops = {int(r): _ops(ops) for r, ops in (data.get("rank_ops") or {}).items()}
        except ValueError as exc:
            raise ScenarioError(f"rank_ops: {exc}") from None
        return cls(
            name=str(data.get("name", "unnamed")),
            world_size=data["world_size"],
            slots=list(data["slots"]) if isinstance(data["slots"], list) else data["slots"],
            ops=_ops(data["ops"]),
            rank_ops=rank_ops,
            gates=data.get("gates", "scripted"),
            process_group=bool(data.get("process_group", True)),
            deadline_s=data.get("deadline_s"),
            model=bool(data.get("model", False)),
        ).validate()

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"malformed scenario JSON: {exc}") from None
        return cls.from_dict(data)


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
