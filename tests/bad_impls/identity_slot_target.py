"""A call is identified by its slot and target: a call from another stage (no seed, or a pruned one)
takes rank 0's decision."""

from tests.bad_impls.common import adapter_for
from tests.bad_impls.identity_common import PartialIdentitySlot, keep


class SlotTargetSlot(PartialIdentitySlot):
    def narrowed(self, identity):
        return keep(identity, call=0, source=None, outcome="gate")


Adapter = adapter_for(SlotTargetSlot, "identity_slot_target")
