"""The right round with the wrong receive buffer: ranks other than 0 receive the 512-byte frame into
128 int32 words. Gloo moves the same bytes, so every decision arrives intact here; on a backend that
checks dtypes the round fails or corrupts, which only the collective's fingerprint shows beforehand."""

import dataclasses

import torch
import torch.distributed as dist

from reference_impl.errors import CollectiveFailedError
from reference_impl.gates import GateResult
from reference_impl.slot import SeedSlot
from reference_impl.sync import FRAME_BYTES, LENGTH_BYTES, _decode, _encode, _mismatch, divergence_suffix
from tests.bad_impls.common import adapter_for, distributed


def _broadcast(buffer: bytearray) -> bytes:
    dtype = torch.uint8 if dist.get_rank() == 0 else torch.int32
    dist.broadcast(torch.frombuffer(buffer, dtype=dtype), src=0)
    return bytes(buffer)


class WordsSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        rank = dist.get_rank()
        frame = _encode(identity, result) if rank == 0 else b""
        try:
            body = _receive(frame)
        except Exception as exc:
            raise CollectiveFailedError(
                f"rank {rank}: the gate-decision broadcast for {identity.describe()} failed: {exc}"
            ) from exc
        decided_for, fields = _decode(body)
        if rank != 0 and decided_for != identity:
            raise _mismatch(rank, identity, decided_for)
        synced = GateResult(**fields)
        if rank != 0 and result.passed != synced.passed:
            synced = dataclasses.replace(
                synced, message=synced.message + divergence_suffix(result.passed, synced.passed)
            )
        return synced


def _receive(frame: bytes) -> bytes:
    head = bytearray(FRAME_BYTES)
    first = len(frame).to_bytes(LENGTH_BYTES, "big") + frame[: FRAME_BYTES - LENGTH_BYTES]
    head[: len(first)] = first
    received = _broadcast(head)
    length = int.from_bytes(received[:LENGTH_BYTES], "big")
    body = received[LENGTH_BYTES : LENGTH_BYTES + length]
    rest = length - len(body)
    if rest > 0:
        tail = bytearray(frame[len(body) :]) if frame else bytearray(rest)
        tail += bytearray(-len(tail) % 4)
        body += _broadcast(tail)[:rest]
    return body


Adapter = adapter_for(WordsSlot, "frame_as_words")
