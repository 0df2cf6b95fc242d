"""The model a training loop builds around the slots: the consequence the lifecycle must keep identical.

For a scenario with `model` set, each rank builds a host network (a stem, every slot's module in slot
order, a head) with the same weights everywhere, wraps it in DistributedDataParallel on gloo (the
plain module at world size 1) and, after every call all ranks made, takes one training step on the
same batch on every rank, then a forward on a fixed probe batch. DDP is built as the scenario's
configuration says (`harness.records.ddp_configs`), on the device the process group's backend needs (the
rank's CUDA device under NCCL, the CPU under gloo). After each backward the host lists the trainable
parameters left without a gradient: a configuration that needs every parameter used (DDP's
defaults), or the same ones between two rebuilds (`static_graph`), would fail the next step with an
error naming none of them, so the host stops there and records the stage and the names instead. What it saw goes
into the call record (`ModelStep`, under `model`); ranks are compared in the parent, from the records.

Before each step the ranks exchange a digest of their parameter sets (names, shapes, trainable) with
one `all_gather`: DDP built on different sets fails inside gloo or hangs. A mismatch is recorded
instead (each rank's names and shapes are in its record, for the parent's report), and the host
stops for the rest of the scenario; every rank sees the same gathered digests, so every rank decides
the same. DDP is rebuilt whenever any rank holds parameters it was not built with
(a germinated or pruned seed), as a training loop must, and under `static_graph` whenever a slot's
stage changed. These collectives are the harness's own:
they run inside `CollectiveMonitor.harness_collectives`, out of the implementation's per-call counts.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch._dynamo  # noqa: F401 - DDP's constructor imports it, for seconds per rank; preloading this module pays once
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..records.contract import stage_name
from ..records.ddp_configs import CONFIGS, MODEL_DEVICE_VARIABLE, DDPConfig, device_for
from ..records.messages import (
    FAILED,
    GRAPH_CHANGED,
    MISMATCH,
    NO_GRADIENT,
    PROBE_OUTPUT,
    SKIPPED,
    TRAINED,
    ModelStep,
    error_info,
)
from ..records.scenario import Scenario
from .collectives import CollectiveMonitor

DDP = "ddp"
PLAIN = "plain"
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


def model_device() -> torch.device:
    """The device this rank's model trains on: it follows the process group's backend whenever one is
    initialised, at world size 1 too (torchrun with one NCCL rank trains on `cuda:0`), and
    `MODEL_DEVICE_VARIABLE`; the CPU without a process group."""
    backend = dist.get_backend() if dist.is_available() and dist.is_initialized() else None
    return device_for(backend, int(os.environ.get("LOCAL_RANK", "0")), os.environ.get(MODEL_DEVICE_VARIABLE))


def made_by_every_rank(scenario: Scenario, index: int) -> bool:
    """Every rank makes call `index`, the same op on the same slot: a training step follows it."""
    ops = [scenario.ops_for(rank) for rank in range(scenario.world_size)]
    if any(index >= len(sequence) for sequence in ops):
        return False
    first = ops[0][index]
    return first.op != "fault" and all(
        s[index].call_key == first.call_key and s[index].applies_to(rank) for rank, s in enumerate(ops)
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
    stages: dict[str, str]
    ungraded: list[str] | None = None


class ModelHost:
    """The host network of one rank for one scenario, and its training step after each call."""

    def __init__(self, adapter: Any, slots: dict[str, Any], scenario: Scenario, monitor: CollectiveMonitor) -> None:
        self.adapter = adapter
        self.slots = slots
        self.scenario = scenario
        self.monitor = monitor
        self.distributed = scenario.world_size > 1 and dist.is_available() and dist.is_initialized()
        self.mode = DDP if self.distributed else PLAIN
        self.config: DDPConfig = CONFIGS[scenario.ddp]
        self.device = model_device()
        self.keys = {name: name.replace(".", "_") for name in slots}
        shapes = {name: tuple(adapter.module_shape(slot)) for name, slot in slots.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"the slots' modules take different shapes, which one host cannot chain: {shapes}")
        shape = next(iter(shapes.values()), (1,))
        self.network = HostNetwork(shape, {self.keys[name]: adapter.module(slot) for name, slot in slots.items()})
        self.network.to(self.device)
        self.probe = torch.randn(BATCH, INPUT_FEATURES, generator=torch.Generator().manual_seed(PROBE_SEED))
        self.probe = self.probe.to(self.device)
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
        if self.device.type != "cpu":
            self.network.to(self.device)  # a seed germinated since is built on the CPU
        named = list(self.network.named_parameters())
        params = tuple((name, tuple(p.shape), p.requires_grad) for name, p in named)
        stages = self._stages()
        view = self._view(call_ok, named, params, stages)
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
                    self.trainer, built = self._build(named, stages), True
                    self.monitor.step_done()
                else:
                    built = False
                ungraded = _train(self.trainer, call, self.device)
                self.monitor.step_done()
        except Exception as exc:
            self.broken = True
            self.stopped = f"the model failed at call #{call}"
            step = ModelStep(FAILED, self.mode, config=self.config.name, params=_listed(params), error=error_info(exc))
            return step.to_record()
        refused = self._refusal(call, self.trainer, ungraded, params, stages)
        if refused is not None:
            return refused
        return self._summary(built, params, ungraded, stages)

    def _refusal(
        self, call: int, trainer: Trainer, ungraded: list[str], params: Params, stages: dict[str, str]
    ) -> dict | None:
        """The step the configuration cannot take again: parameters without a gradient under DDP's
        defaults, or other parameters than since the last build under `static_graph`. The host stops:
        DDP would fail inside the next step, naming none of them."""
        before = trainer.ungraded
        if before is None:
            trainer.ungraded = ungraded
        if self.config.every_parameter_used and ungraded:
            status = NO_GRADIENT
        elif self.config.rebuild_on_stage_change and before is not None and before != ungraded:
            status = GRAPH_CHANGED
        else:
            return None
        self.stopped = f"the model cannot train under {self.config.name} after call #{call}"
        return ModelStep(
            status,
            self.mode,
            config=self.config.name,
            params=_listed(params),
            ungraded=ungraded,
            used_before=before or [],
            stages=stages,
        ).to_record()

    def _refresh_modules(self) -> None:
        """Take each slot's module again: an adapter may hand out a new object after a call."""
        for name, slot in self.slots.items():
            module = self.adapter.module(slot)
            if self.network.slots[self.keys[name]] is not module:
                self.network.slots[self.keys[name]] = module

    def _stages(self) -> dict[str, str]:
        """Each slot's stage by its key in the host network; a value the contract does not know is
        named as it is (the lifecycle clauses report it)."""
        out = {}
        for name, slot in self.slots.items():
            stage = self.adapter.stage(slot)
            out[self.keys[name]] = "empty" if stage is None else str(stage_name(stage))
        return out

    def _view(
        self, call_ok: bool, named: list[tuple[str, nn.Parameter]], params: Params, stages: dict[str, str]
    ) -> ParamSetView:
        built = self.trainer.built_with if self.trainer is not None else []
        changed = len(named) != len(built) or any(
            name != old_name or p is not old for (name, p), (old_name, old) in zip(named, built, strict=False)
        )
        if self.config.rebuild_on_stage_change and self.trainer is not None:
            changed = changed or stages != self.trainer.stages
        digest = int.from_bytes(hashlib.blake2b(repr(params).encode(), digest_size=7).digest(), "big")
        return ParamSetView(call_ok, digest, changed)

    def _exchange(self, view: ParamSetView) -> list[ParamSetView]:
        if not self.distributed:
            return [view]
        sent = view.to_tensor().to(self.device)
        gathered = [torch.empty_like(sent) for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, sent)
        return [ParamSetView.from_tensor(t) for t in gathered]

    def _build(self, named: list[tuple[str, nn.Parameter]], stages: dict[str, str]) -> Trainer:
        network = self.network
        model = DistributedDataParallel(network, **self.config.kwargs) if self.distributed else network
        optimizer = torch.optim.SGD([p for _, p in named if p.requires_grad], lr=LEARNING_RATE)
        return Trainer(model, optimizer, named, stages)

    def _summary(self, built: bool, params: Params, ungraded: list[str], stages: dict[str, str]) -> dict:
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
            config=self.config.name,
            params=_listed(params),
            ungraded=ungraded,
            stages=stages,
            digests={name: _digest(t) for name, t in tensors.items()},
            heads={name: _head(t) for name, t in tensors.items()},
        ).to_record()


def _train(trainer: Trainer, call: int, device: torch.device) -> list[str]:
    """One step on a batch that depends on the call index only, so it is the same on every rank; the
    names of the trainable parameters it left without a gradient."""
    generator = torch.Generator().manual_seed(call)
    batch = torch.randn(BATCH, INPUT_FEATURES, generator=generator).to(device)
    target = torch.randn(BATCH, OUTPUT_FEATURES, generator=generator).to(device)
    trainer.optimizer.zero_grad(set_to_none=True)
    F.mse_loss(trainer.model(batch), target).backward()
    ungraded = [name for name, p in trainer.built_with if p.requires_grad and p.grad is None]
    trainer.optimizer.step()
    return ungraded


def _digest(tensor: torch.Tensor) -> str:
    """Bitwise: equal digests mean equal bytes, so a last-bit difference is a difference."""
    return hashlib.blake2b(tensor.detach().cpu().contiguous().numpy().tobytes(), digest_size=8).hexdigest()


def _head(tensor: torch.Tensor) -> list[float]:
    """The first values, for a violation's text: one `tolist`, not a tensor per element."""
    return [float(v) for v in tensor.detach().flatten()[:HEAD_VALUES].tolist()]


def _listed(params: Params) -> list[list]:
    return [[name, list(shape), trainable] for name, shape, trainable in params]
