"""A gate result of another class with the same fields: a frozen dataclass with a plain int gate,
tuples for the check lists and no timestamp."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reference_impl.adapter import Adapter as Reference
from reference_impl.gates import CallableGates
from reference_impl.slot import SeedSlot
from reference_impl.stages import SeedStage


@dataclass(frozen=True)
class Decision:
    gate: int
    passed: bool
    score: float
    checks_passed: tuple[str, ...]
    checks_failed: tuple[str, ...]
    message: str


def as_decision(result) -> Decision:
    if isinstance(result, Decision):
        return result
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(Decision)}
    return Decision(
        **{
            **fields,
            "gate": int(fields["gate"]),
            "checks_passed": tuple(fields["checks_passed"]),
            "checks_failed": tuple(fields["checks_failed"]),
        }
    )


class DecisionSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        return as_decision(super()._sync_gate_decision(result, identity))

    def advance_stage(self, target=None):
        return as_decision(super().advance_stage(target))


class Adapter(Reference):
    name = "other_result_class"

    def make_slot(self, slot_id):
        return DecisionSlot(slot_id)

    def advance(self, slot, target):
        return slot.advance_stage(None if target is None else SeedStage(target))

    def make_result(self, fields):
        return Decision(
            gate=int(fields["gate"]),
            passed=fields["passed"],
            score=fields["score"],
            checks_passed=tuple(fields["checks_passed"]),
            checks_failed=tuple(fields["checks_failed"]),
            message=fields["message"],
        )

    def install_gate(self, slot, evaluate):
        slot.gates = CallableGates(lambda state, target: evaluate(int(target)))
