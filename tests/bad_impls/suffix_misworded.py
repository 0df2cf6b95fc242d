"""The divergence suffix in other words than the contract's (log parsers match it exactly)."""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed, with_suffix, without_suffix


class MiswordedSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        synced = super()._sync_gate_decision(result, identity)
        if not distributed():
            return synced
        wording = f" (local={result.passed}, synced from rank 0={synced.passed})"
        return with_suffix(without_suffix(synced, result), result, wording)


Adapter = adapter_for(MiswordedSlot, "suffix_misworded")
