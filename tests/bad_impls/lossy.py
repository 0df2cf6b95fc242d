"""Rank 0's whole decision, applied everywhere, but carried through a channel that loses data on the
receiving ranks: each payload-fidelity defect is one `transform` of the synced result's fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch.distributed as dist

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed, with_suffix, without_suffix


def lossy_adapter(name: str, transform: Callable[[dict], dict]) -> type:
    class LossySlot(SeedSlot):
        def _sync_gate_decision(self, result, identity):
            synced = super()._sync_gate_decision(result, identity)
            if not distributed() or dist.get_rank() == 0:
                return synced
            plain = without_suffix(synced, result)
            fields = {f.name: getattr(plain, f.name) for f in dataclasses.fields(plain)}
            return with_suffix(dataclasses.replace(plain, **transform(fields)), result)

    return adapter_for(LossySlot, name)
