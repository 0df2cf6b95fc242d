"""Correct, but floods its output: every `advance` prints 10 MB, between a first and a last line that
name the rank and the call, so a test can see that a bounded log kept both ends."""

import sys

import torch.distributed as dist

from ..adapter import Adapter as ReferenceAdapter

FLOOD_BYTES = 10 * 1024 * 1024
LINE = "flooding " * 11 + "\n"


class Adapter(ReferenceAdapter):
    name = "flooding"

    def advance(self, slot, target):
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        self.calls = getattr(self, "calls", 0) + 1
        print(f"flood begins: rank {rank} call {self.calls}")
        sys.stdout.write(LINE * (FLOOD_BYTES // len(LINE)))
        print(f"flood ends: rank {rank} call {self.calls}", flush=True)
        return super().advance(slot, target)
