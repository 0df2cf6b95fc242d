"""Which scenarios can strand a rank: leave it waiting, on a correct implementation, for peers that stopped.

A correct implementation fails fast at the call where the ranks disagree (clauses S1 and S2), but
only on the ranks that detect it there: with a broadcast round, rank 0 learns of a mismatch at its
next collective. A rank that enters a sync round its peers never join (at a later call, after they
stopped at the disagreement, or at a call they do not make) waits for them until the process
group's timeout. A spawned world ends that wait at once (the deadlock is certain, the ranks are
killed, the world is rebuilt); a launcher's world can do neither, and a timed-out process group
cannot be used again.

The rule: a scenario cannot strand a rank when every rank makes the same calls, or when, from the
first call where the ranks' sequences differ, every rank makes one `advance` (the call that takes
part in a sync round) as its last call, or no rank makes any: every rank then joins the same single
round at the disagreement, or none.
"""

from __future__ import annotations

from itertools import zip_longest

from .scenario import Op, Scenario

_ENDED = ("ended",)


def may_strand_a_rank(scenario: Scenario) -> bool:
    calls = [[_call(op, rank) for op in scenario.ops_for(rank)] for rank in range(scenario.world_size)]
    columns = zip_longest(*calls, fillvalue=_ENDED)
    split = next((index for index, column in enumerate(columns) if len(set(column)) > 1), None)
    if split is None:
        return False
    ends = {_rounds_after_split(rank_calls[split:]) for rank_calls in calls}
    return ends not in ({"none"}, {"one, last"})


def _call(op: Op, rank: int) -> tuple | None:
    """What a rank's call is for pairing sync rounds: None where the op skips this rank."""
    return op.call_key if op.applies_to(rank) else None


def _rounds_after_split(rest: list[tuple | None]) -> str:
    rounds = [index for index, call in enumerate(rest) if call is not None and call[0] == "advance"]
    if not rounds:
        return "none"
    return "one, last" if rounds == [len(rest) - 1] else "more"
