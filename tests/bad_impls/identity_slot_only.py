"""A call is identified by its slot alone: another call of the same slot takes rank 0's decision."""

from tests.bad_impls.common import adapter_for
from tests.bad_impls.identity_common import PartialIdentitySlot, keep


class SlotOnlySlot(PartialIdentitySlot):
    def narrowed(self, identity):
        return keep(identity, call=0, source=None, target=None, outcome="gate")


Adapter = adapter_for(SlotOnlySlot, "identity_slot_only")
