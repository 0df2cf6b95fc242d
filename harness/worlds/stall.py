"""Stalls: a scenario in which no unfinished rank makes progress, and the line a stalled rank sits on.

Progress is a call ending, or a collective entered or left, on any unfinished rank. A scenario stalls
when none happens for the stall window: `STALL_FACTOR` times the longest quiet gap seen in healthy
runs of the same implementation (in earlier scenarios of the pool, and earlier in this one), never
less than `STALL_FLOOR_S`, never more than the scenario deadline. Until a whole scenario of the
implementation has completed, the window is at least `UNPROVEN_WINDOW_S`: nothing yet says how slow
its setup or its gates are, and calling a correct implementation hung is worse than waiting.
Once an implementation has stalled (a full window with no progress, so it is not certified whatever
follows), its floor drops to `STALLED_FLOOR_S`, the unproven window included (an implementation that
never completes a scenario would otherwise pay it in every rebuilt world): its later stalls cost a
fraction of a second while the factor still covers every quiet gap its healthy scenarios showed.
Each stall the window declared leaves its place in the rule: the stalled rank, how many collectives
its process had entered, and its main thread's stack, frame by frame. In a later scenario of the same
implementation, a quiet gap of `PROBE_S` has the pending ranks' stacks dumped once; if the rank the
stall would be blamed on is at exactly such a place (the same rank, at the same point of its process's
life, on the same line by the same calls), the scenario ends then, as the same stall. A rank that waits
at that line at another point of its life (a polling loop that ends in one round and not in the next)
waits out the window. An implementation that never stalled for a full window is never probed, so a
slow correct one waits out every window as before; a probe that finds anything else changes nothing.
`--stall-timeout` replaces the rule with a fixed window, and no probe.

The rank blamed for a stall is the one outside any collective (a rank waiting in one waits for a peer);
when every one waits in a collective, the one that entered the fewest. Its stack (faulthandler's
dump) is read for the implementation's own line (`harness.records.stacks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..records.stacks import Frame, main_thread_frames

STALL_FACTOR = 10.0
STALL_FLOOR_S = 1.0
STALLED_FLOOR_S = 0.25
UNPROVEN_WINDOW_S = 5.0
PROBE_S = 0.05
# What a slow, correct implementation does about it, on either route:
LONGER_GATES = "; a gate slower than that needs a longer --stall-timeout (--lifecycle-stall-timeout under pytest)"
POLL_S = 0.02  # progress is seen no finer than this: a healthy scenario's quiet gaps are whole polls, so
# its window is STALL_FACTOR polls at least (at 0.05 s, 0.5 s for an implementation whose floor is 0.25 s)


@dataclass(frozen=True)
class StallPlace:
    """Where a stalled rank sat: which rank, the collectives its process had entered, its main thread's frames."""

    rank: int
    entered: int
    frames: tuple[Frame, ...]


def stall_place(rank: int, entered: int, stack: str) -> StallPlace | None:
    """The place a faulthandler dump `stack` of `rank` shows; None when it holds no main thread."""
    frames = tuple(main_thread_frames(stack))
    return StallPlace(rank, entered, frames) if frames else None


@dataclass
class StallRule:
    """The stall window per implementation, from the quiet gaps its healthy scenarios showed."""

    fixed_s: float | None = None
    slowest_gap_s: dict[str, float] = field(default_factory=dict)
    stalled: set[str] = field(default_factory=set)
    stall_places: dict[str, set[StallPlace]] = field(default_factory=dict)

    def window(self, impl: str, deadline_s: float, gap_in_scenario_s: float = 0.0) -> float:
        return self._window(impl, deadline_s, gap_in_scenario_s)[0]

    def basis(self, impl: str, deadline_s: float, gap_in_scenario_s: float = 0.0) -> str:
        """Where the window's length comes from, in the words a stall's reason gives: the length alone
        differs between a certification, which learnt the implementation's pace, and a replay, which has not."""
        return self._window(impl, deadline_s, gap_in_scenario_s)[1]

    def _window(self, impl: str, deadline_s: float, gap_in_scenario_s: float) -> tuple[float, str]:
        if self.fixed_s is not None:
            candidates = [(self.fixed_s, "the stall timeout given")]
        else:
            proven = self.slowest_gap_s.get(impl)
            stalled = impl in self.stalled
            gap = max(proven or 0.0, gap_in_scenario_s)
            candidates = [
                (STALLED_FLOOR_S, "the least the harness waits once this implementation has stalled")
                if stalled
                else (STALL_FLOOR_S, "the least the harness waits"),
                (STALL_FACTOR * gap, f"{STALL_FACTOR:g} times the longest quiet gap of its healthy scenarios"),
            ]
            if proven is None and not stalled:
                candidates.append((UNPROVEN_WINDOW_S, "the wait while none of its scenarios has completed yet"))
            candidates = [(seconds, basis + LONGER_GATES) for seconds, basis in candidates]
        window = max(candidates, key=lambda c: c[0])
        return window if window[0] <= deadline_s else (deadline_s, "the scenario's deadline")

    def observe(self, impl: str, gap_s: float) -> None:
        """Record the longest quiet gap of a scenario that completed on every rank."""
        self.slowest_gap_s[impl] = max(self.slowest_gap_s.get(impl, 0.0), gap_s)

    def record_stall(self, impl: str, window_s: float, place: StallPlace | None = None) -> None:
        """An implementation that stalled for a full window has shown that it can stop for good, at `place`."""
        if window_s >= STALL_FLOOR_S:
            self.stalled.add(impl)
        if place is not None:
            self.stall_places.setdefault(impl, set()).add(place)

    def probes(self, impl: str) -> bool:
        """Whether a quiet gap of `impl` is worth a look at its ranks' stacks: it stalled before, and the
        window is the rule's own."""
        return self.fixed_s is None and impl in self.stall_places

    def stalled_at(self, impl: str, place: StallPlace | None) -> bool:
        """A full-window stall of `impl` left a rank at exactly `place`."""
        return place is not None and place in self.stall_places.get(impl, set())


class ProgressWatch:
    """The quiet gaps of one running scenario, from snapshots of every rank's progress."""

    def __init__(self, now: float) -> None:
        self.last_change = now
        self.longest_gap_s = 0.0
        self.state: tuple = ()

    def update(self, state: tuple, now: float) -> float:
        """Take a snapshot; returns the seconds since the last progress."""
        if state != self.state:
            self.longest_gap_s = max(self.longest_gap_s, now - self.last_change)
            self.state, self.last_change = state, now
        return now - self.last_change


def blamed_rank(pending: list[int], in_collective: dict[int, bool], entered: dict[int, int]) -> int:
    """The pending rank a stall is blamed on: outside any collective first, then the fewest entered."""
    return min(pending, key=lambda i: (in_collective[i], entered[i], i))
