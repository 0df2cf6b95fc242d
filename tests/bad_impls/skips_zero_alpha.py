"""Changes its graph within a stage: the blend skips the seed while alpha is still 0.

An optimisation that looks harmless: a seed weighted 0 changes nothing, so its forward is skipped.
But entering BLENDING leaves alpha at 0 until the first epoch tick, so within one stage the seed's
parameters are first unused, then used, while the parameter set stays the same. `static_graph`
refuses a graph that changes between two rebuilds (the harness rebuilds at stage changes only, as a
loop does), and DDP's defaults refuse the unused parameters; `find_unused_parameters=True` and the
settings on top of it train it.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class SkipsZeroAlphaSlot(SeedSlot):
    def forward(self, x):
        if self.blend_weight() == 0.0:
            return x
        return super().forward(x)


Adapter = adapter_for(SkipsZeroAlphaSlot, "skips_zero_alpha")
