"""Upstream's `set_extra_state()` without upstream's caller: the seed module is not re-created.

The lifecycle state comes back, but the fresh slot has no seed module when its weights load: its `seed`
is registered as None, so PyTorch drops the seed's weights without a word, and the slot goes on without
its seed while its snapshot says the seed is there.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class SeedNotRebuiltSlot(SeedSlot):
    def set_extra_state(self, state):
        seed = self.seed
        super().set_extra_state(state)
        self.seed = seed


Adapter = adapter_for(SeedNotRebuiltSlot, "seed_not_rebuilt", checkpoint=True)
