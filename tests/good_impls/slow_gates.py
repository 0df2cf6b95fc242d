"""The reference with gates that take their time: every gate evaluation sleeps `GATE_S` first.

Correct in every clause, only slow, as a gate that reads metrics from disk or a service would be: the
harness must certify it with default settings and never call it hung.
"""

import time

from reference_impl.adapter import Adapter as ReferenceAdapter
from reference_impl.slot import SeedSlot

GATE_S = 0.1


class SlowGateSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        time.sleep(GATE_S)
        return super()._sync_gate_decision(result, identity)


class Adapter(ReferenceAdapter):
    name = "slow_gates"

    def make_slot(self, slot_id: str) -> SlowGateSlot:
        return SlowGateSlot(slot_id)
