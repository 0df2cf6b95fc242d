"""Right about the lifecycle, silent about the seed: its forward is `x` until the seed blends.

The seed's parameters are in the model from germination on, yet no forward uses them before
BLENDING (the reference before it trained its seed straight-through). `find_unused_parameters=True`
trains it, and so does `static_graph` (the parameters used change only with the stage, where the
model is rebuilt); DDP's defaults refuse the second step of a stage that leaves them without a
gradient. It declares every configuration, so D1 fails under `defaults` and nowhere else.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class UnusedWhileTrainingSlot(SeedSlot):
    def forward(self, x):
        weight = self.blend_weight()
        return x if self.seed is None or weight is None else x + weight * self.seed(x)


Adapter = adapter_for(UnusedWhileTrainingSlot, "unused_while_training")
