"""The DistributedDataParallel configurations the `ddp` profile trains under, and the device a rank trains on.

Each configuration isolates one DDP feature a training loop turns on: `defaults` and `static_graph`
are about the autograd graph (every trainable parameter gets a gradient in every step; the set of
parameters used stays the same between two rebuilds), the others vary one setting on top of
`find_unused_parameters=True`, so that a failure there is that setting's. Under `static_graph` the
model is rebuilt whenever a slot's stage changes, as a loop using it must: the lifecycle may change
the graph there, and only there.

An adapter declares the configurations its implementation supports in `ddp_configurations`; one
that declares nothing is judged under `find_unused_parameters`, the configuration the profile
always used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AdapterLoadError

DEFAULTS = "defaults"
FIND_UNUSED = "find_unused_parameters"
STATIC_GRAPH = "static_graph"
BUCKET_VIEW = "gradient_as_bucket_view"
NO_BUFFER_BROADCAST = "no_broadcast_buffers"
UNDECLARED = (FIND_UNUSED,)
MODEL_DEVICE_VARIABLE = "DDP_LIFECYCLE_MODEL_DEVICE"

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DDPConfig:
    """One way to build DDP: its keyword arguments, and what the graph must do for it to train."""

    name: str
    kwargs: dict[str, bool] = field(default_factory=dict)
    every_parameter_used: bool = False
    rebuild_on_stage_change: bool = False

    @property
    def spelled(self) -> str:
        """The constructor call a user writes, e.g. `DistributedDataParallel(model, static_graph=True)`."""
        args = "".join(f", {key}={value}" for key, value in self.kwargs.items())
        return f"DistributedDataParallel(model{args})"


CONFIGS: dict[str, DDPConfig] = {
    config.name: config
    for config in (
        DDPConfig(DEFAULTS, {}, every_parameter_used=True),
        DDPConfig(FIND_UNUSED, {"find_unused_parameters": True}),
        DDPConfig(STATIC_GRAPH, {"static_graph": True}, rebuild_on_stage_change=True),
        DDPConfig(BUCKET_VIEW, {"find_unused_parameters": True, "gradient_as_bucket_view": True}),
        DDPConfig(NO_BUFFER_BROADCAST, {"find_unused_parameters": True, "broadcast_buffers": False}),
    )
}


def declared(adapter: Any) -> tuple[str, ...]:
    """The configurations `adapter` declares in `ddp_configurations`, in matrix order (`UNDECLARED` when
    it declares none); an unknown name is a one-line `AdapterLoadError`."""
    names = getattr(adapter, "ddp_configurations", None)
    if names is None:
        return UNDECLARED
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise AdapterLoadError(f"ddp_configurations must be a set of configuration names, got {names!r}")
    names = set(names)
    unknown = sorted(str(n) for n in names - set(CONFIGS))
    if unknown or not names:
        raise AdapterLoadError(
            f"ddp_configurations names {', '.join(unknown) or 'nothing'}; known: {', '.join(CONFIGS)}"
        )
    return tuple(name for name in CONFIGS if name in names)


def device_for(backend: str | None, local_rank: int, wanted: str | None = None) -> torch.device:
    """Where a rank's model and batches live: its local CUDA device under NCCL, or when `wanted` is
    "cuda" (`MODEL_DEVICE_VARIABLE`: gloo with CUDA tensors, where gloo supports them); else the CPU."""
    import torch  # here: scenarios name configurations without importing torch

    return torch.device("cuda", local_rank) if backend == "nccl" or wanted == "cuda" else torch.device("cpu")
