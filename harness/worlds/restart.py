"""A scenario with `restart` ops, run as an elastic restart: its world ends, a new one resumes from rank 0's files.

The first world runs the whole scenario uninterrupted: at each `restart` op every rank checkpoints every
slot (rank 0 sends its bytes up, a `RestartCheckpoint`) and goes on. The parent then ends that world
(every rank process exits) and starts a new one of the same size: fresh processes, a fresh process group,
fresh slots. Its ranks restore rank 0's checkpoints of the first `restart` op and run on to the next one,
where they checkpoint again and their world ends in turn; and so on to the end of the scenario. The bytes
travel in the parent's memory, never in a file, and each world's folder goes with its world.

What comes back is the restarted history (each call as the world that ran it recorded it; at a `restart`
op, the checkpoint taken in the world that ended merged with the restore in the new one) with the first
world's run as `uninterrupted`, which the `resume` profile's restart clause compares it with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..records.messages import CallRecord, RestartCheckpoint
from ..records.report import ScenarioResult
from ..records.scenario import Scenario

RESTORED_KEYS = ("source", "size", "refused", "after", "module_after")

RunWorld = Callable[[RestartCheckpoint | None, bool], ScenarioResult]


def run_restarted(run_world: RunWorld, scenario: Scenario) -> ScenarioResult:
    """`scenario` across as many worlds as it has `restart` ops, plus one. `run_world(restart, end)` runs it
    in a world (from `restart` when given) and ends that world afterwards when `end` is set."""
    restarts = scenario.restarts
    segments = [run_world(None, True)]
    for position, call in enumerate(restarts):
        checkpoint = rank0_checkpoint(segments[-1], call)
        if checkpoint is None:
            break
        segments.append(run_world(checkpoint, position < len(restarts) - 1))
    return stitched(scenario, segments)


def rank0_checkpoint(result: ScenarioResult, call: int) -> RestartCheckpoint | None:
    """Rank 0's checkpoints at the `restart` op `call`, when it took them."""
    return next((c for c in result.outcomes[0].checkpoints if c.call == call), None)


def stitched(scenario: Scenario, segments: list[ScenarioResult]) -> ScenarioResult:
    """The restarted history of `segments` (the first world's run, then each world started after a restart):
    each world's calls up to the `restart` op where the next one took over, that op's checkpoint merged with
    the next world's restore. A checkpoint no world restored is left out, unless it raised."""
    restarts = scenario.restarts
    ends = [restarts[i] if i < len(restarts) else None for i in range(len(segments))]
    outcomes = []
    for rank in range(scenario.world_size):
        records: list[CallRecord] = []
        held: CallRecord | None = None
        for segment, end in zip(segments, ends, strict=True):
            for record in segment.outcomes[rank].records:
                if held is not None and record.index == held.index:
                    record, held = _merged(held, record), None
                if end is not None and record.index >= end:
                    held = record
                    break
                records.append(record)
        if held is not None and held.error is not None:
            records.append(held)  # the checkpoint that stopped the restarts
        outcomes.append(dataclasses.replace(segments[-1].outcomes[rank], records=records, checkpoints=[]))
    last = segments[-1]
    return ScenarioResult(
        scenario,
        outcomes,
        sum(s.duration_s for s in segments),
        last.deadlock,
        world_reused=False,
        earlier=segments[0].earlier,
        stall=last.stall,
        uninterrupted=segments[0],
    )


def _merged(checkpointed: CallRecord, restored: CallRecord) -> CallRecord:
    """The record of a `restart` op: what the world that ended checkpointed, what the new one restored."""
    if restored.restart is None or checkpointed.restart is None:
        return restored
    steps = {
        name: {**checkpointed.restart.get(name, {}), **{k: step[k] for k in RESTORED_KEYS}}
        for name, step in restored.restart.items()
    }
    return dataclasses.replace(restored, restart=steps)
