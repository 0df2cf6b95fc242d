"""BUG-030 as reported: the local gate decision is applied, no rank hears of the others."""

from ..slot import SeedSlot
from . import adapter_for


class NoSyncSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        return result


Adapter = adapter_for(NoSyncSlot, "no_sync")
