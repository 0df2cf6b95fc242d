"""Seed blueprints: the small modules a slot grows, built with the same weights on every rank.

A seed's weights come from a generator seeded by its seed id alone, never from torch's global
random state, so every rank that germinates the same seed id builds the same module without any
collective (and the weights do not depend on how much randomness a rank consumed before).

Every blueprint maps features of shape `(batch, width)` to the same shape. A blueprint id this
module does not know builds the default residual block: G0 checks only that the ids are non-empty,
and the lifecycle must not depend on which blueprints an installation ships.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import torch
from torch import nn

DEFAULT_BLUEPRINT = "residual"


def _residual(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, width), nn.Tanh())


def _bottleneck(width: int) -> nn.Module:
    hidden = max(1, width // 2)
    return nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, width))


def _normed(width: int) -> nn.Module:
    """Carries buffers (BatchNorm's running statistics), so buffer agreement is exercised too."""
    return nn.Sequential(nn.BatchNorm1d(width), nn.Linear(width, width))


BLUEPRINTS: dict[str, Callable[[int], nn.Module]] = {
    "residual": _residual,
    "bottleneck": _bottleneck,
    "normed": _normed,
}


def seed_generator(seed_id: str) -> torch.Generator:
    """A generator that depends on the seed id only (crc32: stable across processes, unlike `hash`)."""
    return torch.Generator().manual_seed(zlib.crc32(seed_id.encode()))


def build_seed(blueprint_id: str, seed_id: str, width: int) -> nn.Module:
    """The seed module for `blueprint_id`, initialised deterministically from `seed_id`."""
    module = BLUEPRINTS.get(blueprint_id, BLUEPRINTS[DEFAULT_BLUEPRINT])(width)
    generator = seed_generator(seed_id)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-0.5, 0.5, generator=generator)
    return module
