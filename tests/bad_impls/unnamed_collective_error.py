"""A failed gate-decision broadcast raises an error that names neither the slot nor the call.

It ends the call and applies nothing, as C9 asks; only the report is mute about which call it cut short.
"""

from reference_impl.errors import CollectiveFailedError
from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class UnnamedErrorSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        try:
            return super()._sync_gate_decision(result, identity)
        except CollectiveFailedError as exc:
            raise CollectiveFailedError("the gate-decision broadcast failed: a peer went away") from exc.__cause__


Adapter = adapter_for(UnnamedErrorSlot, "unnamed_collective_error")
