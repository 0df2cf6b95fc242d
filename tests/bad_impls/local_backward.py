"""Rank 0's result is synced and returned, but the backward step HOLDING -> BLENDING (gated, never a
default target) follows the local decision; every other step is correct."""

from reference_impl.stages import SeedStage
from tests.bad_impls.common import adapter_for
from tests.bad_impls.local_applied import LocalAppliedSlot


class LocalBackwardSlot(LocalAppliedSlot):
    def _sync_gate_decision(self, result, identity):
        if self.backward:
            return super()._sync_gate_decision(result, identity)
        return super(LocalAppliedSlot, self)._sync_gate_decision(result, identity)

    def advance_stage(self, target=None):
        stage = None if self.state is None else self.state.stage
        self.backward = stage == SeedStage.HOLDING and target is not None and SeedStage(target) == SeedStage.BLENDING
        if not self.backward:
            return super(LocalAppliedSlot, self).advance_stage(target)
        return super().advance_stage(target)


Adapter = adapter_for(LocalBackwardSlot, "local_backward")
