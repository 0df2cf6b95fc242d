"""When the gate-decision broadcast fails (a peer died), the rank keeps its own local decision and goes on.

A "resilient" sync that turns a dead peer into a silent local decision: the survivors train on.
"""

from reference_impl.errors import CollectiveFailedError
from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class SwallowingSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        try:
            return super()._sync_gate_decision(result, identity)
        except CollectiveFailedError:
            return result


Adapter = adapter_for(SwallowingSlot, "swallows_dead_peer")
