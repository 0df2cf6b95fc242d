"""The seed lifecycle as upstream defines it: stages, their integer values and the transition table.

Integer values are a wire contract (upstream serialises them), so 5 stays unused. The order of each
transition row matters: with no explicit target, `advance_stage()` takes the first target of the row
that is not a failure stage.
"""

from __future__ import annotations

from enum import IntEnum


class SeedStage(IntEnum):
    UNKNOWN = 0
    DORMANT = 1
    GERMINATED = 2
    TRAINING = 3
    BLENDING = 4
    HOLDING = 6
    FOSSILIZED = 7
    PRUNED = 8
    EMBARGOED = 9
    RESETTING = 10


FAILURE_STAGES = frozenset({SeedStage.PRUNED, SeedStage.EMBARGOED, SeedStage.RESETTING})

TRANSITIONS: dict[SeedStage, tuple[SeedStage, ...]] = {
    SeedStage.UNKNOWN: (SeedStage.DORMANT,),
    SeedStage.DORMANT: (SeedStage.GERMINATED,),
    SeedStage.GERMINATED: (SeedStage.TRAINING, SeedStage.PRUNED),
    SeedStage.TRAINING: (SeedStage.BLENDING, SeedStage.PRUNED),
    SeedStage.BLENDING: (SeedStage.HOLDING, SeedStage.PRUNED),
    SeedStage.HOLDING: (SeedStage.FOSSILIZED, SeedStage.BLENDING, SeedStage.PRUNED),
    SeedStage.FOSSILIZED: (),
    SeedStage.PRUNED: (SeedStage.EMBARGOED,),
    SeedStage.EMBARGOED: (SeedStage.RESETTING,),
    SeedStage.RESETTING: (SeedStage.DORMANT,),
}


def is_valid_transition(source: SeedStage, target: SeedStage) -> bool:
    return target in TRANSITIONS[source]


def default_target(source: SeedStage) -> SeedStage | None:
    """The first non-failure target of `source`'s row, or None (FOSSILIZED, and the cool-down stages)."""
    return next((t for t in TRANSITIONS[source] if t not in FAILURE_STAGES), None)
