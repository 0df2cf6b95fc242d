"""Rank 0's whole result, broadcast with broadcast_object_list as upstream does, blind to slot and call."""

import dataclasses

import torch.distributed as dist

from reference_impl.gates import GateLevel, GateResult
from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed, with_suffix


class BlindSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        payload = [dataclasses.asdict(result) if dist.get_rank() == 0 else None]
        dist.broadcast_object_list(payload, src=0)
        fields = payload[0]
        return with_suffix(GateResult(**{**fields, "gate": GateLevel(fields["gate"])}), result)


Adapter = adapter_for(BlindSlot, "slot_blind_broadcast")
