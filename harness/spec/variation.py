"""The axes along which correct implementations legitimately differ from the reference.

No scenario may rely on the reference's choice along any of them: a scenario observes the state it
needs (ticks until a slot is empty, with a bound) instead of assuming a constant. SPEC.md and the
adapter guide list these axes; `tests/good_impls/` holds variants generated along each, which the
project's tests certify on every profile they claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scenarios.families import COOLDOWN_TICKS, MAX_EMBARGO_EPOCHS


@dataclass(frozen=True)
class Axis:
    """One axis: what may differ, and how the suite stays neutral to it."""

    name: str
    accepted: str
    neutral_because: str


AXES = (
    Axis(
        "embargo length",
        f"any cool-down after a prune of 0 to {MAX_EMBARGO_EPOCHS} epochs in EMBARGOED (upstream: 5, reference: 2)",
        f"C8 ticks the epoch clock {COOLDOWN_TICKS} times after a prune; D1 and D2 tick until the slot is empty,"
        f" up to {COOLDOWN_TICKS} ticks, before germinating again",
    ),
    Axis(
        "alpha ramp",
        "any speed and shape of the blend from 0 to 1 while BLENDING, identical on every rank",
        "scripted gates decide HOLDING whatever alpha has reached; S3 and D2 compare ranks with each other,"
        " never with the reference's alpha",
    ),
    Axis(
        "blueprints and initialisation",
        "the implementation's own seed modules for any blueprint id, initialised per rank at random when"
        " DistributedDataParallel's construction-time broadcast makes them equal",
        "a scenario's blueprint ids are labels an adapter may map to any blueprint; D2 compares ranks after"
        " the model is built and trained",
    ),
    Axis(
        "ungated targets",
        "a target with no gate raises before any collective, or fails after one round with transition_failed",
        "C7 accepts either, when every rank does the same and the stage does not move",
    ),
    Axis(
        "sync method",
        "broadcast_object_list, all_gather_object, tensors, or any other collective on the default group",
        "the clauses read results, stages and each call's collectives compared across ranks, never with the reference",
    ),
    Axis(
        "result class",
        "any gate result type, read through the adapter's result_fields()",
        "results cross the adapter as field dicts",
    ),
    Axis(
        "module shape",
        "any per-sample feature shape of the slot's module: (C,), (C, H, W), (T, C)",
        "the host network reshapes its stem's output to the adapter's module_shape()",
    ),
    Axis(
        "capabilities",
        "any subset of the optional capabilities declared",
        "a clause needing an undeclared capability is not_claimed, and the rest are judged",
    ),
)


def render() -> list[str]:
    """The axes as SPEC.md lines."""
    lines = [
        "## Legitimate variation",
        "",
        "A correct implementation may differ from the reference along each of these axes; no scenario relies",
        "on the reference's choice, and `tests/good_impls/` holds variants generated along each one.",
        "",
    ]
    return lines + [f"- {axis.name}: {axis.accepted}. Neutral: {axis.neutral_because}." for axis in AXES]
