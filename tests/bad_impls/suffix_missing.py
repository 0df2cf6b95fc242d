"""Rank 0's whole result is applied everywhere, but an overruled rank never says so."""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed, without_suffix


class SilentSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        synced = super()._sync_gate_decision(result, identity)
        return without_suffix(synced, result) if distributed() else synced


Adapter = adapter_for(SilentSlot, "suffix_missing")
