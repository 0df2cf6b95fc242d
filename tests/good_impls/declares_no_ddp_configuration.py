"""A module that trains only under `find_unused_parameters=True`, and says nothing about DDP configurations.

Its seed takes no part in the forward before BLENDING (the reference before it trained its seed
straight-through), so DDP's defaults refuse it; it declares no configuration, so it is judged under
`find_unused_parameters=True` as every adapter was, and the defaults' refusal is a compatibility
finding (D4, a SHOULD clause), not a failed MUST: it stays certified.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class UnusedUntilBlendingSlot(SeedSlot):
    def forward(self, x):
        weight = self.blend_weight()
        return x if self.seed is None or weight is None else x + weight * self.seed(x)


Adapter = adapter_for(UnusedUntilBlendingSlot, "declares_no_ddp_configuration")
Adapter.ddp_configurations = None
