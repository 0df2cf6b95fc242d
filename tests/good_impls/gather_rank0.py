"""Every rank gathers every rank's proposal with `all_gather_object` and applies rank 0's: still rank 0's
authority, at the cost of a gather; every rank, rank 0 included, sees a mismatch at the very call."""

import dataclasses

import torch.distributed as dist

from reference_impl.errors import CollectiveFailedError, DecisionMismatchError
from reference_impl.gates import GateLevel, GateResult
from reference_impl.slot import SeedSlot
from reference_impl.sync import divergence_suffix
from tests.bad_impls.common import adapter_for, distributed


class GatherSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        rank = dist.get_rank()
        proposals = [None] * dist.get_world_size()
        try:
            dist.all_gather_object(proposals, (identity, dataclasses.asdict(result)))
        except RuntimeError as exc:
            raise CollectiveFailedError(f"rank {rank}: the decision gather for {identity.describe()} failed") from exc
        strangers = [r for r, (other, _) in enumerate(proposals) if other != identity]
        if strangers:
            raise DecisionMismatchError(
                f"rank {rank} at {identity.describe()}: ranks {strangers} made other calls"
                f" ({proposals[strangers[0]][0].describe()})"
            )
        fields = proposals[0][1]
        synced = GateResult(**{**fields, "gate": GateLevel(fields["gate"])})
        if rank != 0 and synced.passed != result.passed:
            synced.message += divergence_suffix(result.passed, synced.passed)
        return synced


Adapter = adapter_for(GatherSlot, "gather_rank0")
