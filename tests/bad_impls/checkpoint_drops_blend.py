"""A checkpoint that leaves state out: the stage and its history are saved, the blend is not.

The restored slot starts its alpha schedule and its epoch counter again from zero, so a job restarted
mid-blend blends from scratch while its snapshot still says BLENDING.
"""

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for

LEFT_OUT = {"alpha": 0.0, "alpha_target": 0.0, "alpha_holding": False, "epochs_in_stage": 0}


class DropsBlendSlot(SeedSlot):
    def get_extra_state(self):
        extra = super().get_extra_state()
        if extra["state"] is not None:
            extra["state"] = {k: v for k, v in extra["state"].items() if k not in LEFT_OUT}
        return extra

    def set_extra_state(self, state):
        if state["state"] is not None:
            state = {**state, "state": {**LEFT_OUT, **state["state"]}}
        super().set_extra_state(state)


Adapter = adapter_for(DropsBlendSlot, "checkpoint_drops_blend", checkpoint=True)
