"""The model a training loop builds around the slots: the consequence the lifecycle must keep identical.

For a scenario with `model` set, each rank builds a host network (a stem, every slot's module in slot
order, a head) with the same weights everywhere, wraps it in DistributedDataParallel on gloo (the
plain module at world size 1) and, after every call all ranks made, takes one training step on the
same batch on every rank, then a forward on a fixed probe batch. What it saw goes into the call
record (`ModelStep`, under `model`); ranks are compared in the parent, from the records.

Before each step the ranks exchange a digest of their parameter sets (names, shapes, trainable) with
one `all_gather`: DDP built on different sets fails inside gloo or hangs. A mismatch is recorded
instead (each rank's names and shapes are in its record, for the parent's report), and the host
stops for the rest of the scenario; every rank sees the same gathered digests, so every rank decides
the same. DDP is rebuilt whenever any rank holds parameters it was not built with
(a germinated or pruned seed), as a training loop must. These collectives are the harness's own:
they run inside `CollectiveMonitor.harness_collectives`, out of the implementation's per-call counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch._dynamo  # noqa: F401 - DDP's constructor imports it, for seconds per rank; preloading this module pays once
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .collectives import CollectiveMonitor
from .messages import CallRecord, error_info
from .scenario import Scenario

TRAINED = "trained"
SKIPPED = "skipped"
MISMATCH = "mismatch"
FAILED = "failed"
DDP = "ddp"
PLAIN = "plain"
PROBE_OUTPUT = "probe output"
INPUT_FEATURES = 6
OUTPUT_FEATURES = 3
BATCH = 8
LEARNING_RATE = 0.05
HOST_SEED = 1234
PROBE_SEED = 4321
HEAD_VALUES = 3


Params = tuple[tuple[str, tuple[int, ...], bool], ...]


@dataclass(frozen=True)
class ParamSetView:
    """What a rank tells the others before a step: whether its call completed, a digest of the
    parameters it holds (name, shape, trainable), and whether any is not one DDP was built with.

    It travels as three int64 in one `all_gather` (an `all_gather_object` costs two collectives and
    a pickle per rank); the names and shapes themselves go to the parent in the records."""

    call_ok: bool
    params_digest: int
    changed: bool

    def to_tensor(self) -> torch.Tensor:
        return torch.tensor([int(self.call_ok), self.params_digest, int(self.changed)], dtype=torch.int64)

    @classmethod
    def from_tensor(cls, tensor: torch.Tensor) -> ParamSetView:
        call_ok, params_digest, changed = (int(v) for v in tensor.tolist())
        return cls(bool(call_ok), params_digest, bool(changed))


@dataclass
class ModelStep:
    """One rank's model after one call, kept in the call record as a plain dict under `model`.

    `digests` has every parameter and buffer by name, and `PROBE_OUTPUT`; `heads` their first values.
    """

    status: str
    mode: str
    built: bool = False
    reason: str = ""
    params: list[list] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    heads: dict[str, list[float]] = field(default_factory=dict)
    error: dict | None = None

    def to_record(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: CallRecord | None) -> ModelStep | None:
        model = record.model if record is not None else None
        return None if model is None else cls(**model)


def made_by_every_rank(scenario: Scenario, index: int) -> bool:
    """Every rank makes call `index`, the same op on the same slot: a training step follows it."""
    ops = [scenario.ops_for(rank) for rank in range(scenario.world_size)]
    if any(index >= len(sequence) for sequence in ops):
        return False
    first = ops[0][index]
    return first.op != "fault" and all(
        (s[index].op, s[index].slot, s[index].target) == (first.op, first.slot, first.target)
        and s[index].applies_to(rank)
        for rank, s in enumerate(ops)
    )


class HostNetwork(nn.Module):
    """stem -> every slot's module, in slot order -> head; stem and head the same on every rank."""

    def __init__(self, shape: tuple[int, ...], slot_modules: dict[str, nn.Module]) -> None:
        super().__init__()
        self.shape = shape
        features = math.prod(shape)
        self.stem = nn.Linear(INPUT_FEATURES, features)
        self.slots = nn.ModuleDict(slot_modules)
        self.head = nn.Linear(features, OUTPUT_FEATURES)
        generator = torch.Generator().manual_seed(HOST_SEED)
        with torch.no_grad():
            for parameter in (*self.stem.parameters(), *self.head.parameters()):
                parameter.uniform_(-0.5, 0.5, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.stem(x).view(x.shape[0], *self.shape)
        for module in self.slots.values():
            features = module(features)
        return self.head(features.flatten(1))


@dataclass
class Trainer:
    """What one DDP construction made: the wrapped model, its optimizer, and the parameters it holds."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    built_with: list[tuple[str, nn.Parameter]]


class ModelHost:
    """The host network of one rank for one scenario, and its training step after each call."""

    def __init__(self, adapter: Any, slots: dict[str, Any], scenario: Scenario, monitor: CollectiveMonitor) -> None:
        self.adapter = adapter
        self.slots = slots
        self.scenario = scenario
        self.monitor = monitor
        self.distributed = scenario.world_size > 1 and dist.is_available() and dist.is_initialized()
        self.mode = DDP if self.distributed else PLAIN
        self.keys = {name: name.replace(".", "_") for name in slots}
        shapes = {name: tuple(adapter.module_shape(slot)) for name, slot in slots.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"the slots' modules take different shapes, which one host cannot chain: {shapes}")
        shape = next(iter(shapes.values()), (1,))
        self.network = HostNetwork(shape, {self.keys[name]: adapter.module(slot) for name, slot in slots.items()})
        self.probe = torch.randn(BATCH, INPUT_FEATURES, generator=torch.Generator().manual_seed(PROBE_SEED))
        self.trainer: Trainer | None = None
        self.stopped = ""
        self.broken = False

    def after_call(self, call: int, call_ok: bool) -> dict | None:
        """Exchange parameter sets, (re)build DDP if needed, train one step, probe: the `ModelStep` record
        (None after a call that not every rank made: no training loop steps there)."""
        if not made_by_every_rank(self.scenario, call):
            return None
        if self.stopped:
            return ModelStep(SKIPPED, self.mode, reason=self.stopped).to_record()
        self._refresh_modules()
        named = list(self.network.named_parameters())
        params = tuple((name, tuple(p.shape), p.requires_grad) for name, p in named)
        view = self._view(call_ok, named, params)
        try:
            with self.monitor.harness_collectives():
                views = self._exchange(view)
                failed = [rank for rank, v in enumerate(views) if not v.call_ok]
                if failed:
                    return ModelStep(SKIPPED, self.mode, reason=f"the call raised on ranks {failed}").to_record()
                if any(v.params_digest != views[0].params_digest for v in views):
                    self.stopped = f"the ranks' parameter sets differed at call #{call}"
                    return ModelStep(MISMATCH, self.mode, params=_listed(params)).to_record()
                if self.trainer is None or any(v.changed for v in views):
                    self.trainer, built = self._build(named), True
                else:
                    built = False
                _train(self.trainer, call)
        except Exception as exc:
            self.broken = True
            self.stopped = f"the model failed at call #{call}"
            return ModelStep(FAILED, self.mode, params=_listed(params), error=error_info(exc)).to_record()
        return self._summary(built, params)

    def _refresh_modules(self) -> None:
        """Take each slot's module again: an adapter may hand out a new object after a call."""
        for name, slot in self.slots.items():
            module = self.adapter.module(slot)
            if self.network.slots[self.keys[name]] is not module:
                self.network.slots[self.keys[name]] = module

    def _view(self, call_ok: bool, named: list[tuple[str, nn.Parameter]], params: Params) -> ParamSetView:
        built = self.trainer.built_with if self.trainer is not None else []
        changed = len(named) != len(built) or any(
            name != old_name or p is not old for (name, p), (old_name, old) in zip(named, built, strict=False)
        )
        digest = int.from_bytes(hashlib.blake2b(repr(params).encode(), digest_size=7).digest(), "big")
        return ParamSetView(call_ok, digest, changed)

    def _exchange(self, view: ParamSetView) -> list[ParamSetView]:
        if not self.distributed:
            return [view]
        sent = view.to_tensor()
        gathered = [torch.empty_like(sent) for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, sent)
        return [ParamSetView.from_tensor(t) for t in gathered]

    def _build(self, named: list[tuple[str, nn.Parameter]]) -> Trainer:
        network = self.network
        model = DistributedDataParallel(network, find_unused_parameters=True) if self.distributed else network
        optimizer = torch.optim.SGD([p for _, p in named if p.requires_grad], lr=LEARNING_RATE)
        return Trainer(model, optimizer, named)

    def _summary(self, built: bool, params: Params) -> dict:
        network = self.network
        network.eval()
        with torch.no_grad():
            output = network(self.probe)
        network.train()
        tensors = {**dict(network.named_parameters()), **dict(network.named_buffers()), PROBE_OUTPUT: output}
        return ModelStep(
            TRAINED,
            self.mode,
            built=built,
            params=_listed(params),
            digests={name: _digest(t) for name, t in tensors.items()},
            heads={name: [float(v) for v in t.detach().flatten()[:HEAD_VALUES]] for name, t in tensors.items()},
        ).to_record()


def _train(trainer: Trainer, call: int) -> None:
    """One step on a batch that depends on the call index only, so it is the same on every rank."""
    generator = torch.Generator().manual_seed(call)
    batch = torch.randn(BATCH, INPUT_FEATURES, generator=generator)
    target = torch.randn(BATCH, OUTPUT_FEATURES, generator=generator)
    trainer.optimizer.zero_grad(set_to_none=True)
    F.mse_loss(trainer.model(batch), target).backward()
    trainer.optimizer.step()


def _digest(tensor: torch.Tensor) -> str:
    """Bitwise: equal digests mean equal bytes, so a last-bit difference is a difference."""
    return hashlib.blake2b(tensor.detach().contiguous().numpy().tobytes(), digest_size=8).hexdigest()


def _listed(params: Params) -> list[list]:
    return [[name, list(shape), trainable] for name, shape, trainable in params]
