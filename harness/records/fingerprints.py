"""What a collective was, in a few fields every rank can compare: its fingerprint, and its words.

A fingerprint names the op, the process group, the position within the call, the source, root or
destination, the reduction, the sizes and dtypes of the tensors given, and for an object collective
the pickled size of its payload. Ranks that take part in the same collective agree on the fields
`key` keeps: those the op itself requires to match (a gather's per-rank payload and the receive
lists only its root passes are left out, and so is whether it returned: a peer's failure can end
one rank's wait and not another's). `describe` says it as a user reads it:
"broadcast(src=0, [512] uint8)".
"""

from __future__ import annotations

import pickle
from typing import Any

from .messages import Collective

PEER_ARGUMENTS = ("src", "dst", "group_src", "group_dst")
OBJECT_ARGUMENTS = ("object_list", "obj", "scatter_object_output_list")
TENSORS_SHOWN = 4
SHAPES_MATCH = frozenset(
    {"broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor"}
)
PAYLOAD_MATCHES = frozenset({"broadcast_object_list"})
POINT_TO_POINT = frozenset({"send", "recv", "isend", "irecv", "batch_isend_irecv"})


def fingerprint(op: str, seq: int, arguments: dict[str, Any]) -> Collective:
    """The fingerprint of `op` called with `arguments`, before it runs (`returned` False until it does)."""
    peer = next((arguments[k] for k in PEER_ARGUMENTS if isinstance(arguments.get(k), int)), None)
    reduce = arguments.get("op")
    return Collective(
        op=op,
        group=_group(arguments.get("group")),
        seq=seq,
        peer=peer,
        reduce=None if reduce is None else str(reduce).rpartition(".")[2],
        tensors=[_tensor(t) for t in _tensors(arguments.values())],
        payload=None,
        returned=False,
    )


def with_payload(entry: Collective, arguments: dict[str, Any]) -> None:
    """Set an object collective's payload size from its objects once it returned (a broadcast's
    receivers hold the payload only then)."""
    for name in OBJECT_ARGUMENTS:
        if name in arguments and arguments[name] is not None:
            objects = arguments[name] if name != "obj" else [arguments[name]]
            try:
                entry["payload"] = sum(len(pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL)) for o in objects)
            except Exception:
                entry["payload"] = None
            return


def key(entry: Collective) -> tuple:
    """The fields ranks taking part in the same collective must agree on."""
    op = entry["op"]
    if op in POINT_TO_POINT:
        return (op,)
    shapes = tuple(entry["tensors"]) if op in SHAPES_MATCH else None
    payload = entry["payload"] if op in PAYLOAD_MATCHES else None
    return op, entry["group"], entry["peer"], entry["reduce"], shapes, payload


def describe(entry: Collective) -> str:
    """The collective in words: "broadcast(src=0, [512] uint8)", "(raised)" when it did not return."""
    parts = [] if entry["group"] == "world" else [entry["group"]]
    if entry["peer"] is not None:
        name = "dst" if entry["op"] in ("reduce", "gather", "gather_object", "send", "isend") else "src"
        parts.append(f"{name}={entry['peer']}")
    if entry["reduce"] is not None:
        parts.append(entry["reduce"])
    tensors = entry["tensors"]
    parts += tensors[:TENSORS_SHOWN] + (
        [f"+{len(tensors) - TENSORS_SHOWN} tensors"] if len(tensors) > TENSORS_SHOWN else []
    )
    if entry["payload"] is not None:
        parts.append(f"{entry['payload']} bytes pickled")
    return f"{entry['op']}({', '.join(parts)})" + ("" if entry["returned"] else " (raised)")


def describe_all(entries: list[Collective]) -> str:
    return ", then ".join(describe(e) for e in entries) if entries else "no collective"


def parting(sequences: dict[int, list[Collective]]) -> tuple[int, int, int] | None:
    """Where the ranks' sequences first part: (position, the first rank that differs, the lowest rank,
    which it differs from); None when every sequence agrees."""
    if not sequences:
        return None
    base = min(sequences)
    expected = [key(e) for e in sequences[base]]
    for rank in sorted(sequences):
        actual = [key(e) for e in sequences[rank]]
        for position in range(max(len(expected), len(actual))):
            if position >= len(expected) or position >= len(actual) or expected[position] != actual[position]:
                return position, rank, base
    return None


def parting_words(sequences: dict[int, list[Collective]]) -> str | None:
    """`parting` in words: "rank 1 entered all_reduce([1] int64) where rank 0 entered broadcast(...)"."""
    found = parting(sequences)
    if found is None:
        return None
    position, rank, base = found

    def at(r: int) -> str:
        entries = sequences[r]
        if position < len(entries):
            return f"entered {describe(entries[position])}"
        return "entered no further collective" if entries else "entered no collective"

    where = f"at collective #{position + 1} of the call, " if position else ""
    return f"{where}rank {rank} {at(rank)} where rank {base} {at(base)}"


def _group(group: Any) -> str:
    if group is None:
        return "world"
    try:
        import torch.distributed as dist

        if group is dist.GroupMember.WORLD:
            return "world"
        return f"group of ranks {dist.get_process_group_ranks(group)}"
    except Exception:
        return "a group"


def _tensors(values: Any) -> list:
    tensor = _tensor_type()
    found = []
    for value in values:
        if isinstance(value, tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, tensor):
                    found.append(item)
                elif isinstance(item, (list, tuple)):
                    found += [t for t in item if isinstance(t, tensor)]
    return found


def _tensor_type() -> type:
    """`torch.Tensor`, imported on first use: the parent reads fingerprints without importing torch."""
    global _TENSOR
    if _TENSOR is None:
        import torch

        _TENSOR = torch.Tensor
    return _TENSOR


_TENSOR: type | None = None


def _tensor(tensor: Any) -> str:
    return f"{list(tensor.shape)} {str(tensor.dtype)[6:]}"
