"""Rank 1 ends its process (`sys.exit`) at its second gate round, before the broadcast.

The count is per process: each new world reaches it again.
"""

import sys

import torch.distributed as dist

from ..slot import SeedSlot
from ..sync import GATE_ROUND
from . import adapter_for, distributed

EXITING_ROUND = 2
gate_rounds = 0


class ExitingSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        global gate_rounds
        if identity.outcome == GATE_ROUND and distributed():
            gate_rounds += 1
            if gate_rounds == EXITING_ROUND and dist.get_rank() == 1:
                sys.exit(3)
        return super()._sync_gate_decision(result, identity)


Adapter = adapter_for(ExitingSlot, "exits_at_second_round")
