"""Upstream with the BUG-030 fix, as the facts describe it: `broadcast_object_list` of a pickled dict
from rank 0, early exits returned before any collective, and an ungated target evaluated with the G0
fallback, synced in one round and refused by the state machine (`transition_failed`).

It is blind to slot and call (the strict profile rejects that), but it is the fix itself: `core` must
certify it. It checkpoints as upstream does: `state_dict()` with the lifecycle as extra-state primitives,
a `set_extra_state()` that does not re-create the seed module, and a caller (here the adapter, as in
upstream's own resume test) that germinates the fresh slot first "so slot has same structure".
"""

import dataclasses

from reference_impl.gates import GATE_FOR_TARGET, GateLevel, GateResult
from reference_impl.stages import FAILURE_STAGES, SeedStage, default_target, is_valid_transition
from tests.bad_impls.common import adapter_for
from tests.bad_impls.seed_not_rebuilt import SeedNotRebuiltSlot
from tests.bad_impls.slot_blind_broadcast import BlindSlot


class UpstreamFixedSlot(BlindSlot, SeedNotRebuiltSlot):
    """The slot-blind `broadcast_object_list` round of `BlindSlot`, with upstream's advance_stage."""

    def advance_stage(self, target=None):
        state = self.state
        if state is None:
            return _failed("no_active_seed")
        if target is not None and SeedStage(target) in FAILURE_STAGES:
            raise ValueError(f"{SeedStage(target).name} is a failure stage: use prune()")
        chosen = SeedStage(target) if target is not None else default_target(state.stage)
        if chosen is None or (target is None and chosen not in GATE_FOR_TARGET):
            return _failed("no_valid_transition")
        result = self._sync_gate_decision(self.gates.check_gate(state, chosen), None)
        if not result.passed:
            return result
        if chosen not in GATE_FOR_TARGET or not is_valid_transition(state.stage, chosen):
            return dataclasses.replace(result, passed=False, checks_failed=[*result.checks_failed, "transition_failed"])
        self._transition(state, chosen)
        return result


def _failed(check: str) -> GateResult:
    return GateResult(gate=GateLevel.G0, passed=False, checks_failed=[check], message=check)


class Adapter(adapter_for(UpstreamFixedSlot, "upstream_fixed", checkpoint=True)):
    def restore(self, slot, checkpoint):
        extra = checkpoint["_extra_state"]
        if extra["has_seed"]:
            slot.germinate(extra["state"]["seed_id"], extra["state"]["blueprint_id"])
        slot.load_state_dict(checkpoint)
