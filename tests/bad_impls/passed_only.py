"""Only `passed` is taken from rank 0: each rank keeps its own score, checks and message."""

import dataclasses

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed, with_suffix


class PassedOnlySlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        synced = super()._sync_gate_decision(result, identity)
        if not distributed():
            return synced
        return with_suffix(dataclasses.replace(result, passed=synced.passed), result)


Adapter = adapter_for(PassedOnlySlot, "passed_only")
