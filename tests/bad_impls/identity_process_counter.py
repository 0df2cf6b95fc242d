"""A call is identified by a call counter shared by all the slots of a process (with its stages and
target), not by its slot: a call of another slot at the same position takes rank 0's decision."""

import itertools

from reference_impl.adapter import Adapter as ReferenceAdapter
from tests.bad_impls.identity_common import PartialIdentitySlot, keep


class ProcessCounterSlot(PartialIdentitySlot):
    def __init__(self, slot_id, counter):
        super().__init__(slot_id)
        self.counter = counter

    def narrowed(self, identity):
        return keep(identity, slot_id="*", call=next(self.counter))


class Adapter(ReferenceAdapter):
    """One counter for every slot the adapter makes (the harness makes one adapter per scenario)."""

    name = "identity_process_counter"

    def __init__(self):
        super().__init__()
        self.counter = itertools.count()

    def make_slot(self, slot_id):
        return ProcessCounterSlot(slot_id, self.counter)
