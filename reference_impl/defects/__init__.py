"""Known-bad variants of the reference that the package itself runs: `python -m harness demo --ddp` shows
`no_sync` breaking a model, and `python -m harness bench` times hang and crash reports with
`stalls_at_third_round` and `exits_at_second_round` and a bounded log with `flooding`. They ship here, not
under the repository's `tests/`, so an installed wheel runs those commands; `tests/bad_impls` re-exports them
into its registry of known-bad implementations."""

from __future__ import annotations

from collections.abc import Callable

import torch.distributed as dist

from ..adapter import Adapter
from ..slot import SeedSlot
from ..sync import GATE_ROUND


def adapter_for(slot_class: type[SeedSlot], name: str, checkpoint: bool = False) -> type[Adapter]:
    """The reference adapter over `slot_class`. Without `checkpoint` it does not declare that capability: a
    defect of the gate round is the other profiles' to find, and the `resume` clauses stay `not_claimed`."""
    capabilities = Adapter.capabilities if checkpoint else Adapter.capabilities - {"checkpoint"}
    members = {"name": name, "capabilities": capabilities, "make_slot": lambda self, slot_id: slot_class(slot_id)}
    return type(f"{name}Adapter", (Adapter,), members)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def faulting_at_round(round_number: int, fault: Callable[[], None], name: str) -> type[SeedSlot]:
    """A slot whose rank 1 runs `fault` at its `round_number`-th gate round, before the broadcast. Rounds are
    counted per process, as a stuck lock or a lost file handle would be: every new world reaches it again."""
    rounds = 0

    def _sync_gate_decision(self, result, identity):
        nonlocal rounds
        if identity.outcome == GATE_ROUND and distributed():
            rounds += 1
            if rounds == round_number and dist.get_rank() == 1:
                fault()
        return SeedSlot._sync_gate_decision(self, result, identity)

    return type(name, (SeedSlot,), {"_sync_gate_decision": _sync_gate_decision})
