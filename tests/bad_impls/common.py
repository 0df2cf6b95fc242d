"""Pieces the known-bad implementations share: an adapter over any slot class (`reference_impl.defects`),
suffix handling."""

from __future__ import annotations

import dataclasses

import torch.distributed as dist

from reference_impl.defects import adapter_for, distributed
from reference_impl.gates import GateResult
from reference_impl.sync import divergence_suffix

__all__ = ["adapter_for", "distributed", "with_suffix", "without_suffix"]


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
