"""A checkpoint that refers to state the process keeps: each slot's blueprint lives in a class-level registry.

`germinate()` records the blueprint in a dictionary of the slot class, per slot id, and the checkpoint
leaves it out: the restore looks it up there to rebuild the seed. Restored in the process that germinated
(a round trip, a twin, rank 0's checkpoint on every rank of a running job) it is found; in the fresh
process of a restarted job the registry is empty and the restore raises.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class BlueprintInProcessSlot(SeedSlot):
    blueprints: dict[str, str] = {}

    def germinate(self, seed_id, blueprint_id):
        state = super().germinate(seed_id, blueprint_id)
        BlueprintInProcessSlot.blueprints[self.slot_id] = blueprint_id
        return state

    def get_extra_state(self):
        extra = super().get_extra_state()
        if extra["state"] is not None:
            extra["state"] = {**extra["state"], "blueprint_id": "<registry>"}
        return extra

    def set_extra_state(self, state):
        if state["state"] is not None:
            state = {**state, "state": {**state["state"], "blueprint_id": self.blueprints[self.slot_id]}}
        super().set_extra_state(state)


Adapter = adapter_for(BlueprintInProcessSlot, "blueprint_in_process", checkpoint=True)
