"""Command-line option helpers shared by `python -m harness` and its launcher mode: parsing world
sizes and the stall timeout, and the one line a certification prints per clause."""

from __future__ import annotations

import argparse
import textwrap
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..records.scenario import MAX_CERTIFY_WORLD_SIZE

if TYPE_CHECKING:
    from ..spec.runner import ClauseOutcome

REASON_WIDTH = 100


def world_sizes(text: str) -> tuple[int, ...]:
    sizes = []
    for part in text.split(","):
        try:
            size = int(part.strip())
        except ValueError:
            raise UsageError(f"world sizes must be integers, got {part.strip()!r}") from None
        if not 1 <= size <= MAX_CERTIFY_WORLD_SIZE:
            raise UsageError(f"world sizes must be from 1 to {MAX_CERTIFY_WORLD_SIZE}, got {size}")
        sizes.append(size)
    return tuple(dict.fromkeys(sizes))


def add_stall_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="end a scenario when no rank made progress for this long (default: from the calls seen so far)",
    )


def stall_timeout(args: argparse.Namespace) -> float | None:
    return checked_stall_timeout(args.stall_timeout, "--stall-timeout")


def checked_stall_timeout(value: float | None, option: str) -> float | None:
    """A fixed stall window, in seconds, as the user gave it to `option`: positive, or None (learned)."""
    if value is not None and not value > 0:
        raise UsageError(f"{option} takes a positive number of seconds, got {value}")
    return value


def print_clause(outcome: ClauseOutcome) -> None:
    """Print one line of the clause table a certification prints as it goes."""
    print(clause_line(outcome), flush=True)


def clause_printer(say: Callable[[str], None], verbose: bool) -> Callable[[ClauseOutcome], None]:
    """Prints a clause's line as it ends, and with `verbose` each scenario it ran."""

    def show(outcome: ClauseOutcome) -> None:
        for line in [clause_line(outcome), *evidence_lines(outcome), *(scenario_lines(outcome) if verbose else [])]:
            say(line)

    return show


def evidence_lines(outcome: ClauseOutcome) -> list[str]:
    """Under a clause that is not settled, what to act on: the whole reason when its line had to cut it, and
    the command that replays its evidence."""
    from ..spec.output.certificate import alone_caveat, replay_command

    lines = []
    if outcome.reason and shorten(outcome.reason) != " ".join(outcome.reason.split()):
        lines += textwrap.wrap(
            outcome.reason, REASON_WIDTH + 40, initial_indent="       why: ", subsequent_indent=" " * 12
        )
    evidence = outcome.evidence or {}
    if evidence.get("scenario_file"):
        lines.append(f"       replay: {replay_command(evidence, outcome.clause.id)}")
        caveat = alone_caveat(evidence)
        lines += textwrap.wrap(caveat, REASON_WIDTH + 40, initial_indent=" " * 15, subsequent_indent=" " * 15)
    return lines


def clause_line(outcome: ClauseOutcome) -> str:
    """One row of the clause table: its columns as wide as the registry's longest title and the longest
    status, so every row (D4's long title, `not_exercised`) keeps them aligned."""
    from ..records.statuses import ClauseStatus
    from ..spec.clauses import REGISTRY
    from ..spec.judge.judging import judged_counts

    title_width = max(len(c.title) for c in REGISTRY)
    status_width = max(len(s.value) for s in ClauseStatus)
    clause, status, count = outcome.clause, outcome.status, outcome.scenarios
    noun = "scenario" if count == 1 else "scenarios"
    line = f"  {clause.id:<4} {clause.level:<6} {clause.profile:<7} {clause.title:<{title_width}}"
    line += f" {status:<{status_width}} {count:>4} {noun}"
    if outcome.judged or outcome.unjudged:
        line += f", {judged_counts(outcome.judged, outcome.unjudged, always=False)}"
    return line + (f"  {shorten(outcome.reason)}" if outcome.reason else "")


def scenario_lines(outcome: ClauseOutcome) -> list[str]:
    """One line per scenario the clause ran: its name, world size, status and calls judged (`--verbose`)."""
    from ..spec.judge.judging import judged_counts

    return [
        f"       {run['scenario']} ({run['world_size']} rank{'s' if run['world_size'] > 1 else ''}): {run['status']},"
        f" {judged_counts(run['judged'], run['unjudged'], always=False)}"
        for run in outcome.runs
    ]


def shorten(text: str, width: int = REASON_WIDTH) -> str:
    """`text` cut at a word boundary to at most `width` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ,;:") + "…"


_command_started = time.monotonic()


def start_command_clock() -> None:
    """Each command counts its time from its own start (in-process tests run several)."""
    global _command_started
    _command_started = time.monotonic()


def took(cert: dict) -> str:
    """How long the checks took and how long the command has run, start-up included: the two differ by
    the imports and the first worlds, and a user timing the command sees the second."""
    checks = cert["duration_s"]
    return f"after {checks:.1f}s of checks, {time.monotonic() - _command_started:.1f}s since the command started"
