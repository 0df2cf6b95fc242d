"""Upstream today on early exits: `no_active_seed` / `no_valid_transition` return before the round."""

from reference_impl.slot import SeedSlot
from reference_impl.sync import GATE_ROUND
from tests.bad_impls.common import adapter_for


class EarlyExitSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if identity.outcome != GATE_ROUND:
            return result
        return super()._sync_gate_decision(result, identity)


Adapter = adapter_for(EarlyExitSlot, "early_exit_before_collective")
