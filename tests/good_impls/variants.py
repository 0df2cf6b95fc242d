"""Legitimate variants generated along the axes where correct implementations differ from the reference.

Each `Variant` is the reference's lifecycle and sync with other choices for the things the contract
leaves open: the embargo's length after a prune (0 to 40 epoch ticks), the alpha ramp's speed and shape,
the seed's own blueprints over another feature shape ((C,), (C, H, W) or (T, C)), random initialisation
that differs per rank and relies on DistributedDataParallel's construction-time broadcast, and which
optional capabilities the adapter declares. A variant combines several axes, so a few certifications
cover them all; `tests.good_impls.MUST_CERTIFY` lists each with the profiles it claims.
"""

from __future__ import annotations

import dataclasses
import types

import torch
import torch.distributed as dist
from torch import nn

from reference_impl.adapter import Adapter as ReferenceAdapter
from reference_impl.slot import SeedSlot

# Not `checkpoint`: the reference's restore rebuilds its own blueprints, not a variant's (checkpointing
# variants are `plain_dict_checkpoint`, `upstream_fixed` and `fresh_random_init`).
ALL_CAPABILITIES = ReferenceAdapter.capabilities - {"checkpoint"}
CORE_CAPABILITIES = frozenset({"scripted_gates", "prune", "epoch_clock"})


@dataclasses.dataclass(frozen=True)
class Variant:
    """One point of the variation space; `shape` is the per-sample feature shape of the slot's module."""

    name: str
    embargo_epochs: int = 2
    blend_epochs: int = 3
    ramp: str = "linear"
    shape: tuple[int, ...] = (8,)
    rank_random_init: bool = False
    capabilities: frozenset[str] = ALL_CAPABILITIES
    profiles: tuple[str, ...] = ("core", "strict", "ddp")


VARIANTS = (
    Variant("upstream_embargo_conv", embargo_epochs=5, blend_epochs=10, shape=(4, 3, 3), rank_random_init=True),
    Variant("long_embargo_sequence", embargo_epochs=40, blend_epochs=1, ramp="quadratic", shape=(5, 6)),
    Variant("no_embargo_vector", embargo_epochs=0, blend_epochs=7, ramp="quadratic", rank_random_init=True),
    Variant("short_embargo_bare", embargo_epochs=3, capabilities=CORE_CAPABILITIES, profiles=("core",)),
)
BY_NAME = {variant.name: variant for variant in VARIANTS}


def _seed_module(shape: tuple[int, ...], generator: torch.Generator) -> nn.Module:
    """The variant's own blueprint for `shape` (whatever blueprint id the scenario names)."""
    if len(shape) == 3:
        module: nn.Module = nn.Sequential(nn.Conv2d(shape[0], shape[0], 3, padding=1), nn.BatchNorm2d(shape[0]))
    elif len(shape) == 2:
        module = nn.Sequential(nn.LayerNorm(shape[1]), nn.Linear(shape[1], shape[1]), nn.Tanh())
    else:
        module = nn.Sequential(nn.Linear(shape[0], shape[0]), nn.Tanh())
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-0.5, 0.5, generator=generator)
    return module


class VariantSlot(SeedSlot):
    """The reference slot with the variant's embargo, alpha ramp, blueprints and initialisation."""

    variant: Variant

    def __init__(self, slot_id: str, variant: Variant) -> None:
        super().__init__(slot_id, blend_epochs=variant.blend_epochs, embargo_epochs=variant.embargo_epochs)
        self.variant = variant

    def germinate(self, seed_id: str, blueprint_id: str):
        state = super().germinate(seed_id, blueprint_id)
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        salt = 7919 * rank if self.variant.rank_random_init else 0
        self.seed = _seed_module(self.variant.shape, torch.Generator().manual_seed(len(seed_id) + salt))
        return state

    def _blend(self, state) -> None:
        if self.variant.ramp != "quadratic" or state.alpha_target < state.alpha:
            super()._blend(state)
            return
        progress = min(1.0, state.epochs_in_stage / self.blend_epochs)
        state.alpha = max(state.alpha, state.alpha_target * progress * progress)
        state.alpha_holding = state.alpha == state.alpha_target


def adapter_class(variant: Variant) -> type[ReferenceAdapter]:
    """An adapter class for `variant`: the reference adapter over `VariantSlot`."""
    return type(
        f"{variant.name}Adapter",
        (ReferenceAdapter,),
        {
            "name": variant.name,
            "capabilities": variant.capabilities,
            "make_slot": lambda self, slot_id: VariantSlot(slot_id, variant),
            "module_shape": lambda self, slot: variant.shape,
        },
    )


ADAPTERS = types.SimpleNamespace(**{variant.name: adapter_class(variant) for variant in VARIANTS})


def impl(name: str) -> str:
    """The `MODULE:ATTR` spec of variant `name`, as the CLI takes it."""
    return f"{__name__}:ADAPTERS.{name}"
