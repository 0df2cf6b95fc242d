"""The reference, except that an ungated target (UNKNOWN, DORMANT) is not refused up front: its gate is
evaluated with the G0 fallback, the decision goes through the call-checked round like any other, and a
passing decision is refused with `transition_failed` (as upstream with the BUG-030 fix does)."""

import dataclasses

from reference_impl.gates import GATE_FOR_TARGET
from reference_impl.slot import SeedSlot
from reference_impl.stages import FAILURE_STAGES, SeedStage
from reference_impl.sync import GATE_ROUND, CallIdentity
from tests.bad_impls.common import adapter_for


class UngatedRefusedSlot(SeedSlot):
    def advance_stage(self, target=None):
        ungated = target is not None and SeedStage(target) not in (*FAILURE_STAGES, *GATE_FOR_TARGET)
        if not ungated or self.state is None:
            return super().advance_stage(target)
        call, state, chosen = self.calls, self.state, SeedStage(target)
        self.calls += 1
        identity = CallIdentity(self.slot_id, call, int(state.stage), int(chosen), GATE_ROUND)
        result = self._sync_gate_decision(self.gates.check_gate(state, chosen), identity)
        if not result.passed:
            return result
        return dataclasses.replace(result, passed=False, checks_failed=[*result.checks_failed, "transition_failed"])


Adapter = adapter_for(UngatedRefusedSlot, "ungated_refused_after_round")
