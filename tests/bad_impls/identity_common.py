"""A reference slot whose call identity keeps only some of its parts: the seam the identity bad impls share."""

import dataclasses

from reference_impl.errors import DecisionMismatchError
from reference_impl.slot import SeedSlot
from reference_impl.sync import CallIdentity


class PartialIdentitySlot(SeedSlot):
    """Compares `narrowed(identity)` instead of the whole identity, so a call that differs only in the
    dropped parts is taken for the same call; a mismatch it does see is reported as the reference does,
    naming the slot."""

    def narrowed(self, identity: CallIdentity) -> CallIdentity:
        raise NotImplementedError

    def _sync_gate_decision(self, result, identity):
        try:
            return super()._sync_gate_decision(result, self.narrowed(identity))
        except DecisionMismatchError as exc:
            raise type(exc)(f"at {identity.describe()}: {exc}") from None


def keep(identity: CallIdentity, **blanked: object) -> CallIdentity:
    return dataclasses.replace(identity, **blanked)
