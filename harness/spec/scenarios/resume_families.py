"""Scenarios of the `resume` profile: the lifecycles of the `ddp` profile, checkpointed and restored.

Every scenario is a hand-written lifecycle (`model_families.lifecycle`: a blend rank 0 alone starts, a
fossilization before a prune, a seed cooled down and regrown) with `resume` ops put in, so no scenario
depends on how long an implementation blends or cools down: the restore happens wherever the lifecycle
is at that call. Together the points cover an empty slot, every stage, mid-blend, mid-embargo and a
regrown seed.
"""

from __future__ import annotations

import dataclasses

from ...records.scenario import Op, Scenario
from . import model_families

TWIN = "-resumed"
CONTINUE_EVERY = 3


def _resume_all(slots: list[str], source: int | None = None) -> list[Op]:
    return [Op("resume", slot, source=source) for slot in slots]


def _renamed(base: Scenario, kind: str, slots: list[str], ops: list[Op], model: bool) -> Scenario:
    return dataclasses.replace(base, name=f"resume-{kind}-{base.name}", slots=slots, ops=ops, model=model)


def round_trip(world_size: int, module: bool) -> list[Scenario]:
    """Each slot restored from its own checkpoint at the start and after every call; with `module` the
    host network trains after each call, so the weights checkpointed are trained ones."""
    return [
        _renamed(
            base,
            "roundtrip",
            base.slots,
            _resume_all(base.slots) + [step for op in base.ops for step in (op, Op("resume", op.slot))],
            model=module,
        )
        for base in model_families.lifecycle(world_size)
    ]


def twin(slot: str) -> str:
    return f"{slot}{TWIN}"


def continued(world_size: int) -> list[Scenario]:
    """Each slot with a twin that receives every call right after it, with the same per-rank decisions.
    The twin starts as a fork of its slot after each germination (the slot's checkpoint restored into a
    fresh slot of the same id), so the two hold the same seed however the implementation initialises it;
    every `CONTINUE_EVERY` calls the twins are restored from their own checkpoints, and at the end every
    slot is checkpointed once more, so its module's digests are recorded."""
    scenarios = []
    for base in model_families.lifecycle(world_size):
        twins = [twin(slot) for slot in base.slots]
        ops: list[Op] = []
        for index, op in enumerate(base.ops):
            if op.op == "germinate":
                ops += [op, Op("resume", twin(op.slot), origin=op.slot)]
            else:
                ops += [op, dataclasses.replace(op, slot=twin(op.slot))]
            if index % CONTINUE_EVERY == CONTINUE_EVERY - 1:
                ops += _resume_all(twins)
        ops += _resume_all(base.slots + twins)
        scenarios.append(_renamed(base, "continue", base.slots + twins, ops, model=False))
    return scenarios


def under_ddp(world_size: int, module: bool) -> list[Scenario]:
    """Rank 0's checkpoint of every slot restored on every rank, early and half-way, with `module` the host
    network rebuilt on the restored slots and trained after every call; and the blend once with each rank
    restoring its own checkpoint."""
    if world_size < 2:
        return []
    scenarios = []
    for base in model_families.lifecycle(world_size):
        cuts = {2, len(base.ops) // 2}
        ops = [
            step for i, op in enumerate(base.ops) for step in [op, *(_resume_all(base.slots, 0) if i in cuts else [])]
        ]
        scenarios.append(_renamed(base, "rank0", base.slots, ops, model=module))
    blend = model_families.blend(world_size)
    own = [step for i, op in enumerate(blend.ops) for step in [op, *(_resume_all(blend.slots) if i == 4 else [])]]
    scenarios.append(_renamed(blend, "own", blend.slots, own, model=module))
    return scenarios


# Where each lifecycle restarts (after which of its calls; -1 before the first): empty slots, a seed
# TRAINING beside a GERMINATED one, mid-blend, HOLDING, FOSSILIZED, and mid-embargo (in `regrow`, after
# the first tick of the cool-down, which `_cooled_in_two` splits off).
RESTART_AFTER = {"model-blend": (-1, 2, 4), "model-fossilize-prune": (6, 7), "model-regrow": (4,)}


def restart_size(world_sizes: tuple[int, ...]) -> int:
    """The world size the restarts run at: the smallest above 1 (where rank 0's checkpoint must do for every
    rank), else the first."""
    distributed = [size for size in world_sizes if size > 1]
    return min(distributed) if distributed else world_sizes[0]


def restarted(world_size: int) -> list[Scenario]:
    """The D1 lifecycles, each with its world ended and a new one started at one point of `RESTART_AFTER`
    (one restart per scenario, so a failing one shrinks at the cost of two worlds per candidate), and every
    slot checkpointed at the end, so its module's digests are recorded."""
    scenarios = []
    for base in model_families.lifecycle(world_size):
        ops = _cooled_in_two(base.ops)
        for point in RESTART_AFTER[base.name.rsplit("-ws", 1)[0]]:
            cut = point + 1
            with_restart = [*ops[:cut], Op("restart"), *ops[cut:], *_resume_all(base.slots)]
            kind = f"restart-after{point}" if point >= 0 else "restart-first"
            scenarios.append(_renamed(base, kind, base.slots, with_restart, model=False))
    return scenarios


def _cooled_in_two(ops: list[Op]) -> list[Op]:
    """`ops` with a cool-down to an empty slot started by one tick of its own: a point mid-embargo."""
    split = []
    for op in ops:
        if op.until_empty is not None:
            split.append(Op("step_epoch", op.slot))
        split.append(op)
    return split
