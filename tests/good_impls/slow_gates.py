"""The reference with a gate slow to warm up: the first gate round in each process sleeps `COLD_GATE_S`,
longer than the stall floor, as a gate that connects to a metrics service or loads a model on first
use would; later rounds take the reference's time.

Correct in every clause, only slow: the harness must certify it with default settings and never call it
hung. Every world it starts pays the cold round again, so both the unproven first window and the
window learned from healthy scenarios must cover a quiet gap longer than the floor.
"""

import time

from reference_impl.adapter import Adapter as ReferenceAdapter
from reference_impl.slot import SeedSlot

COLD_GATE_S = 1.5

_warm = False  # per process: each rank of each world is a process of its own


class SlowGateSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        global _warm
        if not _warm:
            time.sleep(COLD_GATE_S)
            _warm = True
        return super()._sync_gate_decision(result, identity)


class Adapter(ReferenceAdapter):
    name = "slow_gates"

    def make_slot(self, slot_id: str) -> SlowGateSlot:
        return SlowGateSlot(slot_id)
