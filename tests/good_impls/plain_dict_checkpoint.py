"""A checkpoint as a plain dict, not a `state_dict`, with the structure rebuilt by the adapter.

The file holds `{"lifecycle": primitives, "seed": the seed module's state_dict or None}`. To restore,
the adapter rebuilds the seed from its blueprint itself, then loads its weights into it.
"""

from reference_impl.adapter import Adapter as ReferenceAdapter
from reference_impl.blueprints import build_seed
from reference_impl.checkpoint import extra_state
from reference_impl.slot import SeedSlot


class Adapter(ReferenceAdapter):
    name = "plain_dict_checkpoint"

    def checkpoint(self, slot: SeedSlot) -> dict:
        seed = None if slot.seed is None else {k: v.clone() for k, v in slot.seed.state_dict().items()}
        return {"lifecycle": extra_state(slot), "seed": seed}

    def restore(self, slot: SeedSlot, checkpoint: dict) -> None:
        slot.set_extra_state({**checkpoint["lifecycle"], "has_seed": False})
        if checkpoint["seed"] is not None:
            state = slot.state
            slot.seed = build_seed(state.blueprint_id, state.seed_id, slot.width)
            slot.seed.load_state_dict(checkpoint["seed"])
