"""Upstream after the BUG-030 fix: a slot-blind broadcast, and early exits before the round."""

from reference_impl.sync import GATE_ROUND
from tests.bad_impls.common import adapter_for
from tests.bad_impls.slot_blind_broadcast import BlindSlot


class UpstreamSlot(BlindSlot):
    def _sync_gate_decision(self, result, identity):
        if identity.outcome != GATE_ROUND:
            return result
        return super()._sync_gate_decision(result, identity)


Adapter = adapter_for(UpstreamSlot, "upstream")
