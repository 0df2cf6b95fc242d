"""The seed module re-created after its weights were loaded: the restored seed has its initial weights.

The load is not strict (so the seed's keys are silently dropped), and the seed is built from its
blueprint afterwards: the stage, alpha and parameter names are right, every trained value is lost.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class RebuiltAfterLoadSlot(SeedSlot):
    def set_extra_state(self, state):
        self.pending = state

    def load_checkpoint(self, checkpoint):
        self.load_state_dict(checkpoint, strict=False)
        SeedSlot.set_extra_state(self, self.pending)


Adapter = adapter_for(RebuiltAfterLoadSlot, "seed_rebuilt_after_load", checkpoint=True)
