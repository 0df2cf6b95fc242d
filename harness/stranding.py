"""Which scenarios can strand a rank: leave it waiting, on a correct implementation, for peers that stopped.

A correct implementation fails fast at the call where the ranks disagree (clauses S1 and S2), but
only on the ranks that detect it there: with a broadcast round, rank 0 learns of a mismatch at its
next collective. A rank with calls left after the disagreement may therefore wait at a later call
for peers that have already stopped, until the process group's timeout. A spawned world ends that
wait at once (the deadlock is certain, the ranks are killed, the world is rebuilt); a launcher's
world can do neither, and a timed-out process group cannot be used again.

The rule: a scenario cannot strand a rank when every rank makes the same calls, or when every
rank's sequence ends at the disagreement call, i.e. the first `advance` at or after the first call
where the ranks' sequences differ (an `advance` is the call that takes part in a sync round).
"""

from __future__ import annotations

from itertools import zip_longest

from harness.scenario import Op, Scenario

_ENDED = ("ended",)


def may_strand_a_rank(scenario: Scenario) -> bool:
    calls = [[_call(op, rank) for op in scenario.ops_for(rank)] for rank in range(scenario.world_size)]
    columns = zip_longest(*calls, fillvalue=_ENDED)
    split = next((index for index, column in enumerate(columns) if len(set(column)) > 1), None)
    if split is None:
        return False
    return any(_calls_after_disagreement(rank_calls[split:]) for rank_calls in calls)


def _call(op: Op, rank: int) -> tuple | None:
    """What a rank's call is for pairing sync rounds: None where the op skips this rank."""
    return (op.op, op.slot, op.target) if op.applies_to(rank) else None


def _calls_after_disagreement(rest: list[tuple | None]) -> bool:
    advance = next((index for index, call in enumerate(rest) if call is not None and call[0] == "advance"), None)
    return advance is not None and advance < len(rest) - 1
