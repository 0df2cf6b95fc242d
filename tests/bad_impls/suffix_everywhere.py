"""The divergence suffix on every rank, rank 0 and agreeing ranks included."""

import dataclasses

from reference_impl.slot import SeedSlot
from reference_impl.sync import divergence_suffix
from tests.bad_impls.common import adapter_for, distributed, without_suffix


class LoudSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        synced = super()._sync_gate_decision(result, identity)
        if not distributed():
            return synced
        plain = without_suffix(synced, result)
        return dataclasses.replace(plain, message=plain.message + divergence_suffix(result.passed, synced.passed))


Adapter = adapter_for(LoudSlot, "suffix_everywhere")
