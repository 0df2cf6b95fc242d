"""Pieces the known-bad implementations share: an adapter over any slot class, suffix handling."""

from __future__ import annotations

import dataclasses

import torch.distributed as dist

from reference_impl.adapter import Adapter
from reference_impl.gates import GateResult
from reference_impl.slot import SeedSlot
from reference_impl.sync import divergence_suffix


def adapter_for(slot_class: type[SeedSlot], name: str, checkpoint: bool = False) -> type[Adapter]:
    """The reference adapter over `slot_class`. Without `checkpoint` it does not declare that capability: a
    defect of the gate round is the other profiles' to find, and the `resume` clauses stay `not_claimed`."""
    capabilities = Adapter.capabilities if checkpoint else Adapter.capabilities - {"checkpoint"}
    members = {"name": name, "capabilities": capabilities, "make_slot": lambda self, slot_id: slot_class(slot_id)}
    return type(f"{name}Adapter", (Adapter,), members)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def without_suffix(synced: GateResult, local: GateResult) -> GateResult:
    """The reference's synced result with its divergence suffix taken off again."""
    suffix = divergence_suffix(local.passed, synced.passed)
    if synced.message.endswith(suffix) and dist.get_rank() != 0:
        return dataclasses.replace(synced, message=synced.message[: -len(suffix)])
    return synced


def with_suffix(result: GateResult, local: GateResult, text: str | None = None) -> GateResult:
    if dist.get_rank() == 0 or local.passed == result.passed:
        return result
    suffix = text if text is not None else divergence_suffix(local.passed, result.passed)
    return dataclasses.replace(result, message=result.message + suffix)
