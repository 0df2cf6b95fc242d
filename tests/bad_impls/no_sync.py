"""BUG-030 as reported: the local gate decision is applied, no rank hears of the others."""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class NoSyncSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        return result


Adapter = adapter_for(NoSyncSlot, "no_sync")
