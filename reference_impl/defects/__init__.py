"""Known-bad variants of the reference that the package itself runs: `python -m harness demo --ddp` shows
`no_sync` breaking a model, and `python -m harness bench` times hang and crash reports with
`stalls_at_third_round` and `exits_at_second_round` and a bounded log with `flooding`. They ship here, not
under the repository's `tests/`, so an installed wheel runs those commands; `tests/bad_impls` re-exports them
into its registry of known-bad implementations."""

from __future__ import annotations

import torch.distributed as dist

from ..adapter import Adapter
from ..slot import SeedSlot


def adapter_for(slot_class: type[SeedSlot], name: str, checkpoint: bool = False) -> type[Adapter]:
    """The reference adapter over `slot_class`. Without `checkpoint` it does not declare that capability: a
    defect of the gate round is the other profiles' to find, and the `resume` clauses stay `not_claimed`."""
    capabilities = Adapter.capabilities if checkpoint else Adapter.capabilities - {"checkpoint"}
    members = {"name": name, "capabilities": capabilities, "make_slot": lambda self, slot_id: slot_class(slot_id)}
    return type(f"{name}Adapter", (Adapter,), members)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()
