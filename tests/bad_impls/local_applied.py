"""Rank 0's result is synced and returned, but the transition follows the local decision."""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class LocalAppliedSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        self.synced = super()._sync_gate_decision(result, identity)
        return result

    def advance_stage(self, target=None):
        self.synced = None
        applied = super().advance_stage(target)
        if self.synced is None or "transition_failed" in applied.checks_failed:
            return applied
        return self.synced


Adapter = adapter_for(LocalAppliedSlot, "local_applied")
