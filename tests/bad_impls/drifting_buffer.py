"""Keeps a buffer of its own view: each rank counts the local gate decisions it saw pass.

The counter is a registered buffer, so it is part of the model's state, and it differs across ranks
as soon as their local decisions differ. DDP's default `broadcast_buffers=True` overwrites every
buffer with rank 0's at each forward, which hides it; with `broadcast_buffers=False` the ranks'
buffers stay different, and D2 sees it.
"""

import torch

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class DriftingBufferSlot(SeedSlot):
    def __init__(self, slot_id, *args, **kwargs):
        super().__init__(slot_id, *args, **kwargs)
        self.register_buffer("local_passes", torch.zeros(1))

    def _sync_gate_decision(self, result, identity):
        if result.passed:
            self.local_passes += 1
        return super()._sync_gate_decision(result, identity)


Adapter = adapter_for(DriftingBufferSlot, "drifting_buffer")
