"""Scenarios of the `ddp` profile: lifecycles that change the model, with a host network trained after each call.

Each hand-written scenario holds one decision that rank 0 alone takes (the other ranks' local gates
say the opposite), at the moment where acting on a local decision does the most harm: entering
BLENDING (ranks then blend at different alphas: same parameters, different outputs) and entering
FOSSILIZED just before a prune (ranks then drop different seeds: different parameter sets, which
DDP cannot be built on). A correct implementation keeps every rank on rank 0's decision.
`under` trains the same scenarios under another DDP configuration (`harness.records.ddp_configs`).
"""

from __future__ import annotations

import dataclasses

from ...records.contract import Stage
from ...records.ddp_configs import FIND_UNUSED
from ...records.scenario import Op, Scenario
from .families import COOLDOWN_TICKS, process_group

MODEL_CORPUS = 1
BLEND_TICKS = 1  # alpha off 0 within BLENDING: a graph that changes inside the stage shows after one tick
DIVERGENCE_SLOTS = ["a", "b"]


def rank0_alone(world_size: int, rank0_passes: bool) -> list[bool]:
    """Local decisions where rank 0 says `rank0_passes` and every other rank the opposite."""
    return [rank0_passes] + [not rank0_passes] * (world_size - 1)


def _scenario(name: str, world_size: int, slots: list[str], ops: list[Op]) -> Scenario:
    return Scenario(
        f"{name}-ws{world_size}", world_size, slots, ops, process_group=process_group(world_size), model=True
    )


def blend(world_size: int) -> Scenario:
    """Rank 0 alone starts the blend of `a`, then alpha grows epoch by epoch; `b` carries buffers."""
    ops = [
        Op("germinate", "a", blueprint_id="residual"),
        Op("germinate", "b", blueprint_id="normed"),
        Op("advance", "a"),
        Op("advance", "a", target=int(Stage.BLENDING), local=rank0_alone(world_size, True)),
        Op("step_epoch", "a"),
        Op("step_epoch", "a"),
        Op("advance", "b", local=rank0_alone(world_size, False)),
        Op("step_epoch", "a"),
        Op("advance", "a", target=int(Stage.HOLDING)),
    ]
    return _scenario("model-blend", world_size, ["a", "b"], ops)


def fossilize_then_prune(world_size: int) -> Scenario:
    """Rank 0 alone fossilizes `a`, then every rank prunes it: a FOSSILIZED seed stays, any other goes."""
    ops = [
        Op("germinate", "a", blueprint_id="bottleneck"),
        Op("advance", "a"),
        Op("advance", "a"),
        Op("step_epoch", "a"),
        Op("step_epoch", "a"),
        Op("step_epoch", "a"),
        Op("advance", "a"),
        Op("advance", "a", target=int(Stage.FOSSILIZED), local=rank0_alone(world_size, True)),
        Op("prune", "a"),
        Op("germinate", "b", blueprint_id="residual"),
        Op("advance", "b"),
    ]
    return _scenario("model-fossilize-prune", world_size, ["a", "b"], ops)


def regrow(world_size: int) -> Scenario:
    """A seed pruned, cooled down and grown again from another blueprint: DDP must be rebuilt twice. The
    epoch clock ticks until the slot is empty (up to `COOLDOWN_TICKS`), whatever the embargo's length."""
    ops = [
        Op("germinate", "a", blueprint_id="normed"),
        Op("germinate", "c", blueprint_id="residual"),
        Op("advance", "a"),
        Op("prune", "c"),
        Op("step_epoch", "c", until_empty=COOLDOWN_TICKS),
        Op("germinate", "c", seed_id="seed-c-again", blueprint_id="bottleneck"),
        Op("advance", "c", local=rank0_alone(world_size, False)),
        Op("advance", "a", local=rank0_alone(world_size, True)),
    ]
    return _scenario("model-regrow", world_size, ["a", "c"], ops)


def stage_tour(world_size: int) -> Scenario:
    """Every stage in one scenario, for the DDP configurations beyond the primary one: `a` trains, blends
    (alpha 0 on entry, then growing: a graph that changes within the stage shows), holds and
    fossilizes; `b`, with BatchNorm buffers, trains, is pruned and cools down. Rank 0 alone passes the
    blend, so state a rank keeps from its own decisions shows too."""
    ops = [
        Op("germinate", "a", blueprint_id="residual"),
        Op("germinate", "b", blueprint_id="normed"),
        Op("advance", "a"),
        Op("advance", "b"),
        Op("step_epoch", "a"),
        Op("advance", "a", target=int(Stage.BLENDING), local=rank0_alone(world_size, True)),
        *[Op("step_epoch", "a") for _ in range(BLEND_TICKS)],
        Op("advance", "a", target=int(Stage.HOLDING)),
        Op("advance", "a", target=int(Stage.FOSSILIZED)),
        Op("prune", "b"),
        Op("step_epoch", "b"),
    ]
    return _scenario("model-stage-tour", world_size, ["a", "b"], ops)


def lifecycle(world_size: int) -> list[Scenario]:
    """The hand-written scenarios of D1 and D2."""
    return [blend(world_size), fossilize_then_prune(world_size), regrow(world_size)]


def dissent_patterns(world_size: int) -> dict[str, tuple[int, ...]]:
    """The ranks that decide against rank 0, by name: rank 0 alone, the last rank alone (the same
    partition at world size 2), and from world size 4 the upper half (at 3 it is the last rank alone).
    At world size 1 nobody dissents: the walk still takes every decision both ways."""
    if world_size == 1:
        return {"alone": ()}
    patterns: dict[str, tuple[int, ...]] = {}
    for name, ranks in (
        ("r0-alone", tuple(range(1, world_size))),
        (f"r{world_size - 1}-alone", (world_size - 1,)),
        ("split", tuple(range(world_size // 2, world_size))),
    ):
        if ranks not in patterns.values():
            patterns[name] = ranks
    return patterns


def _dissent(world_size: int, dissenters: tuple[int, ...], rank0_passes: bool) -> list[bool]:
    return [rank0_passes != (rank in dissenters) for rank in range(world_size)]


def divergence(world_size: int, epoch_clock: bool, prune: bool) -> list[Scenario]:
    """D3's systematic corpus: one scenario per dissent pattern (`dissent_patterns`), each taking every
    kind of gated step under that pattern, rank 0 failing (the dissenters pass) and passing (they fail):
    the default and a named target of each forward step, a forbidden gated target, the backward step
    HOLDING -> BLENDING, then the prunes that show which seeds survived, a regrow and its first step.
    Steps whose stage change a module need not show (GERMINATED -> TRAINING, the backward step: the
    same forward on both sides) dissent after those it must (a blend starting, alpha filling at HOLDING,
    a FOSSILIZED seed surviving a prune), so an implementation wrong at every step fails where the
    model shows it. Nothing depends on the blend's or cool-down's length: one tick into a blend moves
    alpha off 0 whatever the schedule, and the regrow ticks until the slot is empty."""
    return [
        _scenario(
            f"model-divergence-{name}", world_size, DIVERGENCE_SLOTS, _walk(world_size, ranks, epoch_clock, prune)
        )
        for name, ranks in dissent_patterns(world_size).items()
    ]


def _walk(world_size: int, dissenters: tuple[int, ...], epoch_clock: bool, prune: bool) -> list[Op]:
    def fails(slot: str, target: Stage | None = None) -> Op:
        return Op(
            "advance",
            slot,
            target=None if target is None else int(target),
            local=_dissent(world_size, dissenters, False),
        )

    def passes(slot: str, target: Stage | None = None) -> Op:
        return Op(
            "advance",
            slot,
            target=None if target is None else int(target),
            local=_dissent(world_size, dissenters, True),
        )

    tick = [Op("step_epoch", "a")] if epoch_clock else []
    ops = [
        Op("germinate", "a", blueprint_id="residual"),
        Op("germinate", "b", blueprint_id="normed"),
        Op("advance", "a"),
        passes("a", Stage.FOSSILIZED),  # forbidden from TRAINING: one round, then refused everywhere
        fails("a", Stage.BLENDING),
        *tick,
        passes("a"),
        *tick,
        fails("a"),
        passes("a", Stage.HOLDING),
        fails("a", Stage.BLENDING),
        passes("a", Stage.BLENDING),
        Op("advance", "a"),
        passes("a", Stage.FOSSILIZED),
    ]
    ops += [Op("advance", "b"), Op("advance", "b"), Op("advance", "b"), fails("b")]
    if prune:
        ops += [Op("prune", "b"), Op("prune", "a")]  # a FOSSILIZED seed stays, a HOLDING one goes
    if prune and epoch_clock:
        ops += [
            Op("step_epoch", "b", until_empty=COOLDOWN_TICKS),
            Op("germinate", "b", seed_id="seed-b-again", blueprint_id="bottleneck"),
            fails("b"),
            passes("b", Stage.TRAINING),
        ]
    return ops


def under(config: str, scenarios: list[Scenario]) -> list[Scenario]:
    """`scenarios` trained under DDP configuration `config`, renamed after it (the runner memoises
    results by name); under `find_unused_parameters` they keep their names."""
    if config == FIND_UNUSED:
        return [dataclasses.replace(s, ddp=config) for s in scenarios]
    return [dataclasses.replace(s, name=f"{s.name}-{config.replace('_', '-')}", ddp=config) for s in scenarios]


def with_model(scenarios: list[Scenario], epoch_clock: bool) -> list[Scenario]:
    """The first `MODEL_CORPUS` scenarios, each with a host network trained after every call (renamed,
    since the runner memoises results by name). With the epoch clock, every advance is followed by a
    tick of its slot, so a blend that started on some ranks only moves alpha there and reaches the
    model's output, as it would within a training epoch."""
    return [
        dataclasses.replace(s, name=f"{s.name}-model", model=True, ops=_ticked(s.ops) if epoch_clock else s.ops)
        for s in scenarios[:MODEL_CORPUS]
    ]


def _ticked(ops: list[Op]) -> list[Op]:
    return [tick for op in ops for tick in ([op, Op("step_epoch", op.slot)] if op.op == "advance" else [op])]
