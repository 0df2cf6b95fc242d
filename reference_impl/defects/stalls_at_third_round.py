"""Rank 1 stops answering at its third gate round: it sleeps outside any collective, before the broadcast.

The count is per process, as a stuck lock or a blocking read would be: each new world reaches it again.
"""

import time

import torch.distributed as dist

from ..slot import SeedSlot
from ..sync import GATE_ROUND
from . import adapter_for, distributed

STALLING_ROUND = 3
gate_rounds = 0


class StallingSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        global gate_rounds
        if identity.outcome == GATE_ROUND and distributed():
            gate_rounds += 1
            if gate_rounds == STALLING_ROUND and dist.get_rank() == 1:
                time.sleep(600)
        return super()._sync_gate_decision(result, identity)


Adapter = adapter_for(StallingSlot, "stalls_at_third_round")
