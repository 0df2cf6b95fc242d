"""Rank 0's result is synced and returned, but when the caller names the target, the transition
follows the local decision (the default target is honoured correctly)."""

from tests.bad_impls.common import adapter_for
from tests.bad_impls.local_applied import LocalAppliedSlot


class LocalWhenExplicitSlot(LocalAppliedSlot):
    def _sync_gate_decision(self, result, identity):
        if self.explicit:
            return super()._sync_gate_decision(result, identity)
        return super(LocalAppliedSlot, self)._sync_gate_decision(result, identity)

    def advance_stage(self, target=None):
        self.explicit = target is not None
        if not self.explicit:
            return super(LocalAppliedSlot, self).advance_stage(target)
        return super().advance_stage(target)


Adapter = adapter_for(LocalWhenExplicitSlot, "local_when_explicit")
