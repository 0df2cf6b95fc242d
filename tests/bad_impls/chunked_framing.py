"""The message travels on its own, UTF-8 in fixed-size chunks after a length header; the receive buffer
holds 16 chunks and grows for a longer message, but a message of exactly one byte more than the
buffer loses that byte on every receiving rank. Everything else is the reference's round."""

import dataclasses

import torch
import torch.distributed as dist

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed

CHUNK = 256
BUFFER = 16 * CHUNK


def _broadcast_message(message: str) -> str:
    data = message.encode() if dist.get_rank() == 0 else b""
    header = torch.tensor([len(data)], dtype=torch.int64)
    dist.broadcast(header, src=0)
    length = int(header.item())
    chunks = -(-length // CHUNK)
    buffer = torch.zeros(chunks * CHUNK, dtype=torch.uint8)
    if dist.get_rank() == 0:
        buffer[:length] = torch.frombuffer(bytearray(data), dtype=torch.uint8) if length else buffer[:0]
    if chunks:
        dist.broadcast(buffer, src=0)
    if dist.get_rank() == 0:
        return message
    kept = length - 1 if length == BUFFER + 1 else length
    return bytes(buffer[:kept].tolist()).decode(errors="replace")


class ChunkedFramingSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        message = _broadcast_message(result.message)
        synced = super()._sync_gate_decision(dataclasses.replace(result, message=""), identity)
        return dataclasses.replace(synced, message=message + synced.message)


Adapter = adapter_for(ChunkedFramingSlot, "chunked_framing")
