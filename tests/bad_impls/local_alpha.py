"""Right about stages, wrong about the blend: each rank scales alpha by its own gate's confidence.

Every rank applies rank 0's decision and reports rank 0's alpha in its snapshot, but the weight its
forward pass gives the seed is alpha times the score of the rank's own local gate result at the
decision that started the blend, which differs from rank to rank.
"""

from reference_impl.slot import SeedSlot
from reference_impl.stages import SeedStage
from tests.bad_impls.common import adapter_for


class LocalAlphaSlot(SeedSlot):
    confidence = 1.0

    def _sync_gate_decision(self, result, identity):
        if identity.target == int(SeedStage.BLENDING):
            self.confidence = result.score
        return super()._sync_gate_decision(result, identity)

    def blend_weight(self):
        weight = super().blend_weight()
        return None if weight is None else weight * self.confidence


Adapter = adapter_for(LocalAlphaSlot, "local_alpha")
