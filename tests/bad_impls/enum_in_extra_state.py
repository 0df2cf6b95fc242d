"""A non-primitive type in the extra state: the stages are saved as `SeedStage` enum members.

Everything is restored faithfully when the file is read with `weights_only=False`; PyTorch's default
loader (`weights_only=True`, since 2.6) refuses the file, naming `SeedStage`.
"""

from reference_impl.slot import SeedSlot
from reference_impl.stages import SeedStage
from tests.bad_impls.common import adapter_for


class EnumStateSlot(SeedSlot):
    def get_extra_state(self):
        extra = super().get_extra_state()
        state = extra["state"]
        if state is not None:
            state["stage"] = SeedStage(state["stage"])
            state["stage_history"] = [SeedStage(s) for s in state["stage_history"]]
        return extra


Adapter = adapter_for(EnumStateSlot, "enum_in_extra_state", checkpoint=True)
