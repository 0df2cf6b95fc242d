"""The scenarios each clause is checked with: hand-written ones, and a corpus generated from a seed.

Every builder takes the world size (and the seed, for the generated corpus) and returns plain
`Scenario` objects, so any scenario a certificate points at can be saved and replayed.
"""

from __future__ import annotations

import dataclasses
import itertools
import random

from ...records import payloads as payload_space
from ...records.contract import ALLOWED, GATED_TARGETS, MAX_EMBARGO_EPOCHS, Stage, default_target
from ...records.scenario import PAYLOAD_NAMES, Op, Scenario

SLOT_NAMES = ("a", "b", "c")
PATH = (Stage.TRAINING, Stage.BLENDING, Stage.HOLDING, Stage.FOSSILIZED)
LIFECYCLE_SOURCES = (Stage.GERMINATED, *PATH)
COOLDOWN_TICKS = MAX_EMBARGO_EPOCHS + 2  # entering EMBARGOED and leaving RESETTING take one tick each
A, B = "slot-alpha", "slot-beta"  # distinctive, so an error "naming the slot" cannot name it by accident
PRUNABLE = (Stage.GERMINATED, Stage.TRAINING, Stage.BLENDING, Stage.HOLDING)


def process_group(world_size: int) -> bool:
    """World size 1 runs without a process group: that is the single-process case of the spec."""
    return world_size > 1


def generated(world_size: int, seed: int, count: int) -> list[Scenario]:
    """Random symmetric multi-slot call sequences with random divergent per-rank decisions and payloads."""
    rng = random.Random(f"{seed}:{world_size}")
    return [_random_scenario(rng, world_size, f"generated-ws{world_size}-s{seed}-{i}") for i in range(count)]


def _random_local(rng: random.Random, world_size: int) -> list:
    """One local decision per rank: mostly plain, often with a payload that tests fidelity."""
    names = list(PAYLOAD_NAMES)
    local: list = []
    for _ in range(world_size):
        passed = rng.random() < 0.6
        payload = rng.choice(names) if rng.random() < 0.5 else "plain"
        local.append(passed if payload == "plain" else {"passed": passed, "payload": payload})
    return local


def _passed(value: object) -> bool:
    return value if isinstance(value, bool) else bool(value.get("passed", True))  # type: ignore[union-attr]


def _random_scenario(rng: random.Random, world_size: int, name: str) -> Scenario:
    """Calls whose outcome the contract fixes: the generator tracks each slot's stage from rank 0's
    decision and never prunes or advances a slot whose behaviour the spec leaves open (a pruned seed
    in its cool-down, a prune of a terminal or empty slot)."""
    slots = list(SLOT_NAMES[: rng.randint(1, len(SLOT_NAMES))])
    stage: dict[str, Stage | None] = {slot: None for slot in slots}
    cooling: set[str] = set()
    ops = []
    for slot in slots:
        if rng.random() < 0.85:
            ops.append(Op("germinate", slot))
            stage[slot] = Stage.GERMINATED
    for _ in range(rng.randint(4, 12)):
        slot = rng.choice(slots)
        kind = rng.choices(("advance", "step_epoch", "prune"), weights=(8, 2, 1))[0]
        if kind == "step_epoch" or slot in cooling:
            ops.append(Op("step_epoch", slot))
        elif kind == "prune" and stage[slot] in PRUNABLE:
            ops.append(Op("prune", slot))
            cooling.add(slot)
        else:
            local = _random_local(rng, world_size)
            ops.append(Op("advance", slot, local=local))
            current = stage[slot]
            if current is not None and _passed(local[0]):
                stage[slot] = default_target(current) or current
    return Scenario(name, world_size, slots, ops, process_group=process_group(world_size))


def payloads(world_size: int) -> list[Scenario]:
    """Every payload from rank 0, passing and failing, while the other ranks send other payloads."""
    names = list(PAYLOAD_NAMES)
    slots, ops = [], []
    for index, name in enumerate(names):
        for passed in (True, False):
            slot = f"payload-{name}-{'pass' if passed else 'fail'}"
            slots.append(slot)
            local = [{"passed": passed, "payload": name}]
            local += [
                {"passed": (rank % 2 == 0) == passed, "payload": names[(index + rank) % len(names)]}
                for rank in range(1, world_size)
            ]
            ops += [Op("germinate", slot), Op("advance", slot, local=local)]
    return [Scenario(f"payloads-ws{world_size}", world_size, slots, ops, process_group=process_group(world_size))]


ROUNDS_PER_SLOT = 32


def generated_payloads(world_size: int, seed: int, share: int = 0, shares: int = 1) -> list[Scenario]:
    """Rank 0's result drawn from the whole space of every field (`harness.records.payloads`), at the message
    lengths and units of `harness.records.payloads.sweep()` shared out among the run's world sizes (`share` of
    `shares`),
    so every length is judged once per run whatever its number of world sizes. Rank 0 fails all but the
    last round of each slot (so a slot takes many rounds); the other ranks dissent at random with short
    generated results of their own."""
    rng = random.Random(f"payloads:{seed}:{world_size}")
    chosen = payload_space.sweep()[share::shares]
    slots, ops = [], []
    for start in range(0, len(chosen), ROUNDS_PER_SLOT):
        slot = f"generated-payload-{start // ROUNDS_PER_SLOT}"
        slots.append(slot)
        ops.append(Op("germinate", slot))
        batch = chosen[start : start + ROUNDS_PER_SLOT]
        for position, (unit, length) in enumerate(batch):
            rank0_passes = position == len(batch) - 1
            local = [{"passed": rank0_passes, "payload": payload_space.name(unit, rng.randrange(1 << 20), length)}]
            for _ in range(1, world_size):
                own = payload_space.name(unit, rng.randrange(1 << 20), rng.randrange(64))
                local.append({"passed": rng.random() < 0.5, "payload": own})
            ops.append(Op("advance", slot, local=local))
    name = f"generated-payloads-ws{world_size}-s{seed}-{share}of{shares}"
    return [Scenario(name, world_size, slots, ops, process_group=process_group(world_size))]


def gated_steps(source: Stage) -> list[tuple[Stage, str]]:
    """Every gated target an advance from `source` can name, with how it is reached: `default` (no
    target), `explicit` (the same target named), `backward` (HOLDING -> BLENDING) or `forbidden` (a gated
    target the table forbids from `source`, which must fail on every rank after its round)."""
    forward = default_target(source)
    steps = [(target, "forbidden") for target in GATED_TARGETS if target not in ALLOWED[source]]
    if forward is not None:
        steps += [(forward, "default"), (forward, "explicit")]
    steps += [(target, "backward") for target in ALLOWED[source] if target in GATED_TARGETS and target != forward]
    return steps


def divergence_matrix(world_size: int) -> list[Scenario]:
    """Every gated step of the table from every gate-reachable stage (see `gated_steps`), with rank 0
    passing and failing, against every set of dissenting ranks (the empty set included). A round rank 0
    fails, or one for a forbidden target, leaves the stage alone, so one slot per source takes all of
    those in a row; only a step that moves (rank 0 passing, a target the table allows) needs a slot of
    its own, driven to the source first."""
    scenarios = []
    others = list(range(1, world_size))
    dissents = [list(c) for size in range(len(others) + 1) for c in itertools.combinations(others, size)]
    for source in LIFECYCLE_SOURCES:
        steps = gated_steps(source)
        moving = [(target, via) for target, via in steps if via != "forbidden"]
        slots = [f"{source.name.lower()}-staying"]
        ops = _drive_to(slots[0], source)
        for rank0_passes in (True, False):
            for dissent in dissents:
                local = [rank0_passes != (rank in dissent) for rank in range(world_size)]
                staying = steps if not rank0_passes else [step for step in steps if step not in moving]
                ops += [_step_op(slots[0], target, via, local) for target, via in staying]
                if not rank0_passes:
                    continue
                for target, via in moving:
                    slot = f"{source.name.lower()}-{via}-pass-d{''.join(map(str, dissent))}"
                    slots.append(slot)
                    ops += [*_drive_to(slot, source), _step_op(slot, target, via, local)]
        name = f"divergence-{source.name.lower()}-ws{world_size}"
        scenarios.append(Scenario(name, world_size, slots, ops, process_group=process_group(world_size)))
    return scenarios


def _step_op(slot: str, target: Stage, via: str, local: list[bool]) -> Op:
    return Op("advance", slot, target=None if via == "default" else int(target), local=local)


def generated_without(ops_kinds: tuple[str, ...], scenarios: list[Scenario]) -> list[Scenario]:
    """The same corpus with some kinds of ops removed, for adapters that lack the capability."""
    return [dataclasses.replace(s, ops=[op for op in s.ops if op.op not in ops_kinds]) for s in scenarios]


def single_process() -> list[Scenario]:
    """No process group at all: passes, failures, the early exits, at world size 1."""
    ops = [
        Op("advance", "a"),
        Op("germinate", "a"),
        Op("advance", "a", local=True),
        Op("advance", "a", local=False),
        Op("advance", "a", local={"passed": True, "score": 0.25, "message": "solo"}),
    ]
    return [Scenario("single-process", 1, ["a"], ops, process_group=False)]


def _drive_to(slot: str, stage: Stage) -> list[Op]:
    """Ops that bring an empty slot to `stage` through passing gates (GERMINATED or along PATH)."""
    ops = [Op("germinate", slot)]
    for step in PATH:
        if stage == Stage.GERMINATED:
            break
        ops.append(Op("advance", slot, target=int(step)))
        if step == stage:
            break
    return ops


def lifecycle(world_size: int) -> list[Scenario]:
    """Every explicit target from every gate-reachable stage, default targets, and the early exits."""
    slots: list[str] = []
    ops: list[Op] = []
    for source in LIFECYCLE_SOURCES:
        for target in Stage:
            slot = f"{source.name.lower()}-to-{target.name.lower()}"
            slots.append(slot)
            ops += _drive_to(slot, source)
            ops.append(Op("advance", slot, target=int(target)))
        slot = f"{source.name.lower()}-default"
        slots.append(slot)
        ops += _drive_to(slot, source)
        ops.append(Op("advance", slot))
        slot = f"{source.name.lower()}-gate-fails"
        slots.append(slot)
        ops += _drive_to(slot, source)
        ops.append(Op("advance", slot, local=False))
    slots.append("empty")
    ops.append(Op("advance", "empty"))
    for op in ops:
        op.continue_on_error = True
    return [Scenario(f"lifecycle-ws{world_size}", world_size, slots, ops, process_group=process_group(world_size))]


def cooldown(world_size: int) -> list[Scenario]:
    """Prune from every prunable stage, run the epoch clock through the cool-down, germinate again."""
    slots, ops = [], []
    for source in PRUNABLE:
        slot = f"prune-{source.name.lower()}"
        slots.append(slot)
        ops += _drive_to(slot, source)
        ops.append(Op("prune", slot))
        ops += [Op("step_epoch", slot) for _ in range(COOLDOWN_TICKS)]
        ops.append(Op("germinate", slot, seed_id=f"again-{slot}"))
    slots.append("prune-fossilized")
    ops += _drive_to("prune-fossilized", Stage.FOSSILIZED)
    ops.append(Op("prune", "prune-fossilized", continue_on_error=True))
    return [Scenario(f"cooldown-ws{world_size}", world_size, slots, ops, process_group=process_group(world_size))]


def slot_mismatch(world_size: int) -> list[Scenario]:
    """Ranks advance different slots, or the same slots in a different order."""
    if world_size < 2:
        return []
    setup = [Op("germinate", A), Op("germinate", B)]
    odd = world_size - 1
    last_call = Scenario(
        f"other-slot-last-ws{world_size}",
        world_size,
        [A, B],
        [*setup, Op("advance", A)],
        rank_ops={odd: [*setup, Op("advance", B)]},
    )
    rank0_alone = Scenario(
        f"rank0-other-slot-ws{world_size}",
        world_size,
        [A, B],
        [*setup, Op("advance", B)],
        rank_ops={0: [*setup, Op("advance", A)]},
    )
    swapped = Scenario(
        f"swapped-order-ws{world_size}",
        world_size,
        [A, B],
        [*setup, Op("advance", A), Op("advance", B)],
        rank_ops={odd: [*setup, Op("advance", B), Op("advance", A)]},
    )
    return [last_call, rank0_alone, swapped]


def early_exit(world_size: int, prune: bool) -> list[Scenario]:
    """Ranks disagree on whether the slot has a seed (or, with prune, whether it can advance)."""
    if world_size < 2:
        return []
    odd = world_size - 1
    scenarios = []
    for who, ranks in (("odd-rank", list(range(odd))), ("rank0", list(range(1, world_size)))):
        scenarios.append(
            Scenario(
                f"no-seed-on-{who}-ws{world_size}",
                world_size,
                [A],
                [Op("germinate", A, ranks=ranks), Op("advance", A)],
            )
        )
    scenarios.append(
        Scenario(
            f"no-seed-then-more-calls-ws{world_size}",
            world_size,
            [A, B],
            [
                Op("germinate", B),
                Op("germinate", A, ranks=list(range(odd))),
                Op("advance", A),
                Op("advance", B),
                Op("advance", B),
            ],
        )
    )
    if prune:
        scenarios.append(
            Scenario(
                f"cannot-advance-on-odd-rank-ws{world_size}",
                world_size,
                [A],
                [Op("germinate", A), Op("prune", A, ranks=[odd]), Op("advance", A)],
            )
        )
    return scenarios


def real_gates(world_size: int, seed: int) -> list[Scenario]:
    """The implementation's own gates, fed different metrics on every rank."""
    rng = random.Random(f"metrics:{seed}:{world_size}")

    def metrics() -> list[dict]:
        return [
            {
                "improvement_since_stage_start": round(rng.uniform(0.0, 1.0), 3),
                "gradient_norm_ratio": round(rng.uniform(0.0, 0.2), 3),
                "counterfactual_contribution": round(rng.uniform(0.0, 2.0), 3),
                "healthy": rng.random() < 0.8,
            }
            for _ in range(world_size)
        ]

    ops = [Op("germinate", "a"), Op("advance", "a")]
    for _ in range(3):
        ops += [Op("step_epoch", "a") for _ in range(3)]
        ops.append(Op("advance", "a", metrics=metrics()))
    name = f"real-gates-ws{world_size}-s{seed}"
    return [Scenario(name, world_size, ["a"], ops, gates="real", process_group=process_group(world_size))]
