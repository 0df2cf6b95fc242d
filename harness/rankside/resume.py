"""The `resume` op on a rank: checkpoint a slot, move it as a file would travel, restore it into a fresh slot.

The checkpoint goes through `torch.save` to bytes and back through `torch.load(weights_only=True)`, as
a training loop's checkpoint file does. With a `source` rank, that rank's bytes are broadcast to every
rank (the harness's own collectives, out of the implementation's counts), as a restarted job reads one
file on every rank. A checkpoint `weights_only` refuses is recorded with PyTorch's reason (which names
the refused type) and then read without the restriction, so that the other clauses still judge the
rest of the scenario: refusing such a file is the weights-only clause's finding alone.

A `restart` op (`harness.worlds.restart`) uses the same two halves in two processes: `checkpointed` in the
world that ends, `restored` in the new one.

What the step saw goes into the call record (`ResumeStep`, under `resume`): the snapshot of the slot
that was checkpointed and of the restored one, and with `module` a bitwise digest of every parameter,
buffer and the module's output on a fixed probe batch, before and after.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from .adapter import MODULE
from .collectives import CollectiveMonitor

PROBE_SEED = 2468
PROBE_BATCH = 4
PROBE_OUTPUT = "probe output"


@dataclass
class ResumeStep:
    """One rank's restore of one slot, kept in the call record as a plain dict under `resume`.

    `before` describes the slot this rank checkpointed, `after` the slot it restored (from `source`'s
    bytes); `refused` is `torch.load(weights_only=True)`'s reason, when it refused them."""

    source: int
    size: int
    refused: str | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    module_before: dict[str, str] | None = None
    module_after: dict[str, str] | None = None

    def to_record(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Any) -> ResumeStep | None:
        data = getattr(record, "resume", None)
        return cls(**data) if data else None


def resume_slot(
    adapter: Any,
    slot: Any,
    slot_id: str,
    source: int | None,
    rank: int,
    monitor: CollectiveMonitor,
    prepare: Callable[[Any], None],
) -> tuple[Any, ResumeStep]:
    """The fresh slot restored from `source`'s checkpoint of `slot_id` (this rank's own when None), and the
    step's record. `prepare` readies the fresh slot before the restore (the harness installs its gate)."""
    data, step = checkpointed(adapter, slot, rank)
    if source is not None and dist.is_available() and dist.is_initialized():
        with monitor.harness_collectives():
            data = broadcast_bytes(data, source)
    fresh = adapter.make_slot(slot_id)
    prepare(fresh)
    restored(adapter, fresh, data, step, rank if source is None else source)
    return fresh, step


def checkpointed(adapter: Any, slot: Any, rank: int) -> tuple[bytes, ResumeStep]:
    """`slot`'s checkpoint as `torch.save` writes it, and the record of what was checkpointed."""
    module = MODULE in adapter.capabilities
    before, module_before = adapter.snapshot(slot), module_view(adapter, slot) if module else None
    buffer = io.BytesIO()
    torch.save(adapter.checkpoint(slot), buffer)
    data = buffer.getvalue()
    return data, ResumeStep(rank, len(data), None, before, module_before=module_before)


def restored(adapter: Any, slot: Any, data: bytes, step: ResumeStep, source: int) -> None:
    """Restore `source`'s checkpoint `data` into `slot`; `step` records the load and the restored slot."""
    loaded, step.refused = _loaded(data)
    step.source, step.size = source, len(data)
    adapter.restore(slot, loaded)
    step.after = adapter.snapshot(slot)
    step.module_after = module_view(adapter, slot) if MODULE in adapter.capabilities else None


def _loaded(data: bytes) -> tuple[Any, str | None]:
    try:
        return torch.load(io.BytesIO(data), weights_only=True), None
    except pickle.UnpicklingError as exc:
        return torch.load(io.BytesIO(data), weights_only=False), refusal(exc)


def refusal(exc: Exception) -> str:
    """PyTorch's reason for refusing a weights-only load, on one line (it names the refused global)."""
    text = " ".join(str(exc).split())
    start = text.find("Unsupported global")
    return (text[start:] if start >= 0 else text)[:300]


def broadcast_bytes(data: bytes, source: int) -> bytes:
    """`source`'s `data` on every rank: its length, then its bytes, in two broadcasts."""
    length = torch.tensor([len(data)], dtype=torch.int64)
    dist.broadcast(length, src=source)
    payload = torch.frombuffer(bytearray(data), dtype=torch.uint8) if dist.get_rank() == source else None
    if payload is None:
        payload = torch.empty(int(length.item()), dtype=torch.uint8)
    dist.broadcast(payload, src=source)
    return payload.numpy().tobytes()


def module_view(adapter: Any, slot: Any) -> dict[str, str]:
    """Bitwise digests of the slot module's parameters, buffers and output on a fixed probe batch."""
    module = adapter.module(slot)
    shape = tuple(adapter.module_shape(slot))
    probe = torch.randn(PROBE_BATCH, *shape, generator=torch.Generator().manual_seed(PROBE_SEED))
    training = module.training
    module.eval()
    with torch.no_grad():
        output = module(probe)
    module.train(training)
    tensors = {**dict(module.named_parameters()), **dict(module.named_buffers()), PROBE_OUTPUT: output}
    return {name: _digest(tensor) for name, tensor in tensors.items()}


def _digest(tensor: torch.Tensor) -> str:
    data = tensor.detach().contiguous()
    head = f"{tuple(data.shape)}:{data.dtype}:"
    return head + hashlib.blake2b(data.numpy().tobytes(), digest_size=8).hexdigest()
