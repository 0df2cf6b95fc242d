"""Rank 0's decision and the call it was made for, sent with `broadcast_object_list` (pickle, two
collectives) instead of the reference's fixed frame; a receiving rank refuses a decision made for
another call. Early exits take part in the round, as in the reference."""

import dataclasses

import torch.distributed as dist

from reference_impl.errors import CollectiveFailedError, DecisionMismatchError
from reference_impl.gates import GateLevel, GateResult
from reference_impl.slot import SeedSlot
from reference_impl.sync import divergence_suffix
from tests.bad_impls.common import adapter_for, distributed


class ObjectListSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        rank = dist.get_rank()
        payload = [(identity, dataclasses.asdict(result)) if rank == 0 else None]
        try:
            dist.broadcast_object_list(payload, src=0)
        except RuntimeError as exc:
            raise CollectiveFailedError(f"rank {rank}: the broadcast for {identity.describe()} failed") from exc
        decided_for, fields = payload[0]
        if decided_for != identity:
            raise DecisionMismatchError(f"rank {rank} at {identity.describe()} got {decided_for.describe()}")
        synced = GateResult(**{**fields, "gate": GateLevel(fields["gate"])})
        if rank != 0 and synced.passed != result.passed:
            synced.message += divergence_suffix(result.passed, synced.passed)
        return synced


Adapter = adapter_for(ObjectListSlot, "object_list_with_identity")
