"""The newest upstream's order of checks: the early exits first (returned before any collective), then
a failure-stage target and an unmapped target raise `ValueError`, on every rank alike, before the
round; the round itself is the reference's."""

from reference_impl.gates import GATE_FOR_TARGET, GateLevel, GateResult
from reference_impl.slot import SeedSlot
from reference_impl.stages import FAILURE_STAGES, SeedStage, default_target
from tests.bad_impls.common import adapter_for


class NewestOrderSlot(SeedSlot):
    def advance_stage(self, target=None):
        if self.state is None:
            return GateResult(gate=GateLevel.G0, passed=False, checks_failed=["no_active_seed"], message="no seed")
        if target is not None and SeedStage(target) in FAILURE_STAGES:
            raise ValueError(f"{SeedStage(target).name} is a failure stage: use prune()")
        if target is not None and SeedStage(target) not in GATE_FOR_TARGET:
            raise ValueError(f"no gate for target {SeedStage(target).name}")
        if target is None and default_target(self.state.stage) is None:
            return GateResult(gate=GateLevel.G0, passed=False, checks_failed=["no_valid_transition"], message="done")
        return super().advance_stage(target)


Adapter = adapter_for(NewestOrderSlot, "ungated_raises_after_early_exits")
