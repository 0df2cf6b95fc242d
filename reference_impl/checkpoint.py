"""The slot's lifecycle state as checkpoint primitives, and its careful restore.

`SeedSlot.state_dict()` holds the seed's weights and buffers as ordinary tensors under `seed.` and
the lifecycle as `get_extra_state()`: dicts, lists, str, int, float, bool and None only, so that
`torch.load(..., weights_only=True)` accepts the file. `set_extra_state()` runs before the children's
weights load (that is PyTorch's order), so it rebuilds the seed from its blueprint there, and the
weights then land in a module of the right structure instead of becoming unexpected keys.

A checkpoint is validated whole before anything is applied: a schema it does not know, a missing or
unknown field, a value of the wrong type or another slot's checkpoint raises `CheckpointError` and
leaves the slot as it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .gates import SeedMetrics
from .stages import SeedStage

SCHEMA = 1
SLOT_FIELDS = {"schema": int, "slot_id": str, "calls": int, "width": int, "has_seed": bool, "state": (dict, type(None))}
STATE_FIELDS = {
    "seed_id": str,
    "blueprint_id": str,
    "stage": int,
    "previous_stage": int,
    "epochs_in_stage": int,
    "stage_history": list,
    "alpha": float,
    "alpha_target": float,
    "alpha_holding": bool,
    "metrics": dict,
}
METRIC_FIELDS = {f.name for f in fields(SeedMetrics)}
STAGE_VALUES = frozenset(int(s) for s in SeedStage)


class CheckpointError(ValueError):
    """A checkpoint this slot cannot restore; nothing of it was applied."""


@dataclass(frozen=True)
class Restored:
    """A checked checkpoint: the seed state's fields (None for an empty slot), whether it holds a seed
    module, the call counter."""

    state: dict | None
    has_seed: bool
    calls: int


def extra_state(slot: Any) -> dict:
    """The slot's lifecycle as primitives: what `get_extra_state()` returns."""
    state = slot.state
    return {
        "schema": SCHEMA,
        "slot_id": slot.slot_id,
        "calls": slot.calls,
        "width": slot.width,
        "has_seed": slot.seed is not None,
        "state": None if state is None else _state_record(state),
    }


def _state_record(state: Any) -> dict:
    return {
        "seed_id": state.seed_id,
        "blueprint_id": state.blueprint_id,
        "stage": int(state.stage),
        "previous_stage": int(state.previous_stage),
        "epochs_in_stage": state.epochs_in_stage,
        "stage_history": [int(s) for s in state.stage_history],
        "alpha": float(state.alpha),
        "alpha_target": float(state.alpha_target),
        "alpha_holding": state.alpha_holding,
        "metrics": asdict(state.metrics),
    }


def checked_extra_state(extra: Any, slot_id: str, width: int) -> Restored:
    """`extra` checked whole against a slot `slot_id` of `width`, else `CheckpointError`."""
    _check_fields(extra, SLOT_FIELDS, "checkpoint")
    if extra["schema"] != SCHEMA:
        raise CheckpointError(f"checkpoint schema {extra['schema']!r} is not this slot's schema {SCHEMA}")
    if extra["slot_id"] != slot_id:
        raise CheckpointError(f"checkpoint of slot {extra['slot_id']!r} cannot be restored into slot {slot_id!r}")
    if extra["width"] != width:
        raise CheckpointError(f"checkpoint of width {extra['width']} cannot be restored into a slot of width {width}")
    record = extra["state"]
    if record is None and extra["has_seed"]:
        raise CheckpointError("checkpoint holds a seed module but no seed state")
    return Restored(None if record is None else _state_fields(record), extra["has_seed"], extra["calls"])


def _state_fields(record: Any) -> dict:
    """The `SeedState` fields of a checked state record."""
    _check_fields(record, STATE_FIELDS, "checkpoint state")
    _check_fields(record["metrics"], {name: object for name in METRIC_FIELDS}, "checkpoint metrics")
    stages = [record["stage"], record["previous_stage"], *record["stage_history"]]
    bad = [s for s in stages if isinstance(s, bool) or not isinstance(s, int) or s not in STAGE_VALUES]
    if bad:
        raise CheckpointError(f"checkpoint state holds {bad[0]!r} where a stage value is due")
    return {
        **record,
        "stage": SeedStage(record["stage"]),
        "previous_stage": SeedStage(record["previous_stage"]),
        "stage_history": [SeedStage(s) for s in record["stage_history"]],
        "metrics": SeedMetrics(**record["metrics"]),
    }


def _check_fields(record: Any, expected: dict[str, Any], what: str) -> None:
    if not isinstance(record, dict):
        raise CheckpointError(f"{what} is {type(record).__name__}, not a dict")
    missing = sorted(set(expected) - set(record))
    unknown = sorted(set(record) - set(expected))
    if missing or unknown:
        parts = [
            f"lacks {', '.join(missing)}" if missing else "",
            f"has unknown {', '.join(unknown)}" if unknown else "",
        ]
        raise CheckpointError(f"{what} {' and '.join(p for p in parts if p)}")
    for name, kind in expected.items():
        value = record[name]
        if kind is not object and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise CheckpointError(f"{what} field {name} is {value!r}, not of the expected type")
