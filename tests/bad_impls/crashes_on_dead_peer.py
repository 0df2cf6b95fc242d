"""The handler of a failed gate-decision broadcast reads an attribute the error does not have: the
survivors' calls end with an AttributeError raised while handling the collective's error."""

from reference_impl.errors import CollectiveFailedError
from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for


class CrashingHandlerSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        try:
            return super()._sync_gate_decision(result, identity)
        except CollectiveFailedError as exc:
            raise CollectiveFailedError(f"{identity.describe()}: rank {exc.failed_rank} went away") from exc


Adapter = adapter_for(CrashingHandlerSlot, "crashes_on_dead_peer")
