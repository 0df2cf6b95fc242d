"""The right round from the wrong rank: rank 1's decision is broadcast and applied everywhere."""

import dataclasses

import torch.distributed as dist

from reference_impl.errors import DecisionMismatchError
from reference_impl.gates import GateLevel, GateResult
from reference_impl.slot import SeedSlot
from reference_impl.sync import divergence_suffix
from tests.bad_impls.common import adapter_for, distributed

AUTHORITY = 1


class Rank1Slot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        rank = dist.get_rank()
        payload = [(identity, dataclasses.asdict(result)) if rank == AUTHORITY else None]
        dist.broadcast_object_list(payload, src=AUTHORITY)
        decided_for, fields = payload[0]
        if decided_for != identity:
            raise DecisionMismatchError(f"rank {rank} at {identity.describe()} got {decided_for.describe()}")
        synced = GateResult(**{**fields, "gate": GateLevel(fields["gate"])})
        if rank != AUTHORITY and synced.passed != result.passed:
            synced.message += divergence_suffix(result.passed, synced.passed)
        return synced


Adapter = adapter_for(Rank1Slot, "broadcast_from_rank1")
