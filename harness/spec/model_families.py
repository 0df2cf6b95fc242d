"""Scenarios of the `ddp` profile: lifecycles that change the model, with a host network trained after each call.

Each hand-written scenario holds one decision that rank 0 alone takes (the other ranks' local gates
say the opposite), at the moment where acting on a local decision does the most harm: entering
BLENDING (ranks then blend at different alphas: same parameters, different outputs) and entering
FOSSILIZED just before a prune (ranks then drop different seeds: different parameter sets, which
DDP cannot be built on). A correct implementation keeps every rank on rank 0's decision.
`under` trains the same scenarios under another DDP configuration (`harness.ddp_configs`).
"""

from __future__ import annotations

import dataclasses

from ..contract import Stage
from ..ddp_configs import FIND_UNUSED
from ..scenario import Op, Scenario
from .families import COOLDOWN_TICKS, process_group

MODEL_CORPUS = 2
BLEND_TICKS = 3


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
        Op("step_epoch", "b"),
    ]
    return _scenario("model-stage-tour", world_size, ["a", "b"], ops)


def lifecycle(world_size: int) -> list[Scenario]:
    """The hand-written scenarios of D1 and D2."""
    return [blend(world_size), fossilize_then_prune(world_size), regrow(world_size)]


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
