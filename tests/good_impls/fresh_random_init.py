"""Every germination draws fresh random weights from the process's own random stream, different on
every rank and every time, as torch's default initialisation does in a training script.

Legitimate: DistributedDataParallel's construction-time broadcast makes the ranks' models equal, and a
checkpoint carries the weights, so nothing may assume that two germinations of one seed give the same
module (a twin slot compared with its original must be forked from the original's checkpoint).
"""

import itertools

import torch
import torch.distributed as dist

from reference_impl.adapter import Adapter as ReferenceAdapter
from reference_impl.slot import SeedSlot

_germinations = itertools.count()


class FreshRandomSlot(SeedSlot):
    def germinate(self, seed_id: str, blueprint_id: str):
        state = super().germinate(seed_id, blueprint_id)
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        generator = torch.Generator().manual_seed(1000003 * next(_germinations) + rank)
        with torch.no_grad():
            for parameter in self.seed.parameters():
                parameter.uniform_(-0.5, 0.5, generator=generator)
        return state


class Adapter(ReferenceAdapter):
    name = "fresh_random_init"

    def make_slot(self, slot_id: str) -> FreshRandomSlot:
        return FreshRandomSlot(slot_id)
