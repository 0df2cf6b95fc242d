"""A rank-local value in the checkpoint: the slot keeps the rank it was built on, and saves it.

The slot writes the divergence report only where it applies, deciding from the rank it remembers.
Restored from rank 0's checkpoint, every rank remembers rank 0, and an overruled rank no longer says so.
"""

import torch.distributed as dist

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed, without_suffix


class RankKeepingSlot(SeedSlot):
    def __init__(self, slot_id, *args, **kwargs):
        super().__init__(slot_id, *args, **kwargs)
        self.rank = dist.get_rank() if distributed() else 0

    def _sync_gate_decision(self, result, identity):
        synced = super()._sync_gate_decision(result, identity)
        return without_suffix(synced, result) if distributed() and self.rank == 0 else synced

    def get_extra_state(self):
        return {**super().get_extra_state(), "rank": self.rank}

    def set_extra_state(self, state):
        state = dict(state)
        self.rank = state.pop("rank")
        super().set_extra_state(state)


Adapter = adapter_for(RankKeepingSlot, "rank_in_checkpoint", checkpoint=True)
