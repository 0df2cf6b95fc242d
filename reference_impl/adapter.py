"""The reference implementation's adapter for the specification suite (`reference_impl.adapter:Adapter`).

It is also the model for a downstream adapter: each method is one call into the implementation.
"""

from __future__ import annotations

from collections.abc import Callable

from . import __version__
from .gates import CallableGates, GateLevel, GateResult, SeedMetrics
from .slot import SeedSlot
from .stages import SeedStage


class Adapter:
    name = "reference_impl"
    version = __version__
    capabilities = frozenset(
        {"scripted_gates", "metrics", "prune", "epoch_clock", "side_effects", "module", "checkpoint"}
    )
    ddp_configurations = frozenset(
        {"defaults", "find_unused_parameters", "static_graph", "gradient_as_bucket_view", "no_broadcast_buffers"}
    )

    def make_slot(self, slot_id: str) -> SeedSlot:
        return SeedSlot(slot_id)

    def germinate(self, slot: SeedSlot, seed_id: str, blueprint_id: str) -> None:
        slot.germinate(seed_id, blueprint_id)

    def advance(self, slot: SeedSlot, target: int | None) -> GateResult:
        return slot.advance_stage(None if target is None else SeedStage(target))

    def result_fields(self, result: GateResult) -> dict:
        return {
            "gate": int(result.gate),
            "passed": result.passed,
            "score": result.score,
            "checks_passed": list(result.checks_passed),
            "checks_failed": list(result.checks_failed),
            "message": result.message,
        }

    def stage(self, slot: SeedSlot) -> int | None:
        return None if slot.state is None else int(slot.state.stage)

    def snapshot(self, slot: SeedSlot) -> dict:
        return slot.snapshot()

    def make_result(self, fields: dict) -> GateResult:
        return GateResult(
            gate=GateLevel(fields["gate"]),
            passed=fields["passed"],
            score=fields["score"],
            checks_passed=list(fields["checks_passed"]),
            checks_failed=list(fields["checks_failed"]),
            message=fields["message"],
        )

    def install_gate(self, slot: SeedSlot, evaluate: Callable[[int], GateResult]) -> None:
        slot.gates = CallableGates(lambda state, target: evaluate(int(target)))

    def set_metrics(self, slot: SeedSlot, metrics: dict) -> None:
        if slot.state is not None:
            slot.state.metrics = SeedMetrics(**metrics)

    def prune(self, slot: SeedSlot) -> None:
        slot.prune()

    def step_epoch(self, slot: SeedSlot) -> None:
        slot.step_epoch()

    def module(self, slot: SeedSlot) -> SeedSlot:
        return slot

    def module_shape(self, slot: SeedSlot) -> tuple[int, ...]:
        return (slot.width,)

    def checkpoint(self, slot: SeedSlot) -> dict:
        return slot.state_dict()

    def restore(self, slot: SeedSlot, checkpoint: dict) -> None:
        slot.load_checkpoint(checkpoint)
