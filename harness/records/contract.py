"""The lifecycle contract as the specification sees it: stage values, transitions, gates.

Written from the facts of the upstream lifecycle, independently of `reference_impl`, on purpose:
the suite is an oracle for every implementation, the reference included, so it must not share the
code it judges.
"""

from __future__ import annotations

from enum import IntEnum


class Stage(IntEnum):
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


FAILURE = frozenset({Stage.PRUNED, Stage.EMBARGOED, Stage.RESETTING})
MAX_EMBARGO_EPOCHS = 40  # how long an implementation may keep a pruned seed EMBARGOED: its own choice up to this

ALLOWED: dict[Stage, tuple[Stage, ...]] = {
    Stage.UNKNOWN: (Stage.DORMANT,),
    Stage.DORMANT: (Stage.GERMINATED,),
    Stage.GERMINATED: (Stage.TRAINING, Stage.PRUNED),
    Stage.TRAINING: (Stage.BLENDING, Stage.PRUNED),
    Stage.BLENDING: (Stage.HOLDING, Stage.PRUNED),
    Stage.HOLDING: (Stage.FOSSILIZED, Stage.BLENDING, Stage.PRUNED),
    Stage.FOSSILIZED: (),
    Stage.PRUNED: (Stage.EMBARGOED,),
    Stage.EMBARGOED: (Stage.RESETTING,),
    Stage.RESETTING: (Stage.DORMANT,),
}

GATE_LEVEL = {
    Stage.GERMINATED: 0,
    Stage.TRAINING: 1,
    Stage.BLENDING: 2,
    Stage.HOLDING: 3,
    Stage.FOSSILIZED: 5,
}

GATED_TARGETS = tuple(GATE_LEVEL)


def default_target(stage: int) -> Stage | None:
    return next((t for t in ALLOWED[Stage(stage)] if t not in FAILURE), None)


def expected_transition(source: int, target: int | None) -> str:
    """What the contract says an advance from `source` to `target` (None: default) with a passing gate
    does: "raises" (a failure stage as target), "ungated" (a target no gate guards: raising, or one round
    that fails without a move, are both accepted), "moves", "refused" (`transition_failed`), or
    "no_valid_transition"."""
    if target is not None and Stage(target) in FAILURE:
        return "raises"
    if target is not None and Stage(target) not in GATED_TARGETS:
        return "ungated"
    chosen = target if target is not None else default_target(source)
    if chosen is None or Stage(chosen) not in GATED_TARGETS:
        return "no_valid_transition"  # nothing to take, or a default no gate guards (the epoch clock drives it)
    return "moves" if Stage(chosen) in ALLOWED[Stage(source)] else "refused"


def stage_name(stage: object) -> str:
    """A stage as users read it; a value outside the contract is named as such, never a crash."""
    if stage is None:
        return "no seed"
    if isinstance(stage, int) and not isinstance(stage, bool) and stage in Stage._value2member_map_:
        return Stage(stage).name
    return f"{stage!r} (not a contract stage)"


def parse_stage(value: int | str | None) -> int | None:
    """A stage given by name or value, as its value; ValueError naming the bad input otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"unknown stage {value!r}")
    if isinstance(value, int):
        if value not in Stage._value2member_map_:
            raise ValueError(f"unknown stage value {value}")
        return value
    if isinstance(value, str) and value.upper() in Stage.__members__:
        return int(Stage[value.upper()])
    raise ValueError(f"unknown stage {value!r} (known: {', '.join(Stage.__members__)})")
