"""The progress printer: one line rewritten in place on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

from harness.cli.options import clause_line, clause_printer
from harness.records.statuses import ClauseStatus
from harness.spec.clauses import REGISTRY
from harness.spec.progress import CLEAR_LINE, PLAIN_EVERY_S, TTY_EVERY_S, ProgressPrinter, RunProgress
from harness.spec.runner import ClauseOutcome
from tests.harness_util import wait_until


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_line_is_rewritten_in_place_and_cleared_for_output():
    progress = RunProgress(scenarios=7, ended_early=2, world_size=3)
    stream, output = Terminal(), io.StringIO()
    with ProgressPrinter(progress, stream, output) as printer:
        assert wait_until(lambda: stream.getvalue().count(CLEAR_LINE) >= 2, 20 * TTY_EVERY_S)
        printer.print("  C1   MUST   core    Agreement   pass")
    shown = stream.getvalue()
    assert "\n" not in shown
    assert f"{CLEAR_LINE}world size 3, 7 scenarios run, 2 ended early, " in shown
    assert shown.endswith(CLEAR_LINE)
    assert output.getvalue() == "  C1   MUST   core    Agreement   pass\n"


def test_without_a_terminal_a_plain_line_every_few_seconds():
    progress = RunProgress(scenarios=1, world_size=2)
    stream, output = io.StringIO(), io.StringIO()
    with ProgressPrinter(progress, stream, output):
        assert wait_until(lambda: stream.getvalue(), 10 * PLAIN_EVERY_S)
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("progress: world size 2, 1 scenarios run, 0 ended early, ") for line in lines)
    assert CLEAR_LINE not in stream.getvalue()


def test_every_row_of_the_clause_table_keeps_its_columns_aligned():
    """D4's long title beside a `not_claimed` status, `not_exercised`, and every other clause and status:
    the status and the scenario count start in the same column on every row, and no title is cut."""
    rows = [
        (clause, status, clause_line(ClauseOutcome(clause, status, scenarios=3, reason="why")))
        for clause in REGISTRY
        for status in ClauseStatus
    ]
    status_at = {
        row.index(f" {status} ", row.index(clause.title) + len(clause.title) - 1) for clause, status, row in rows
    }
    count_at = {row.index(" 3 scenarios") for _, _, row in rows}
    assert len(status_at) == 1 and len(count_at) == 1, (status_at, count_at)
    d4 = next(row for clause, status, row in rows if clause.id == "D4" and status == ClauseStatus.NOT_CLAIMED)
    assert "DDP configuration compatibility" in d4 and d4.index(" not_claimed ") in status_at


def test_an_unsettled_clause_prints_its_whole_reason_and_how_to_replay_it(tmp_path):
    reason = " ".join(f"word{i}" for i in range(60))
    evidence = {"scenario_file": str(tmp_path / "C1-x.json"), "pythonpath": ["/somewhere"]}
    outcome = ClauseOutcome(REGISTRY[0], ClauseStatus.FAIL, scenarios=1, reason=reason, evidence=evidence)
    said: list[str] = []
    clause_printer(said.append, verbose=False)(outcome)
    assert said[0].endswith("…") and "word59" not in said[0]
    why = " ".join(line.strip() for line in said[1:-1])
    assert why == f"why: {reason}"
    assert (
        said[-1].startswith("       replay: PYTHONPATH=/somewhere ")
        and f"replay {tmp_path / 'C1-x.json'} --clause C1" in said[-1]
    )
    short = ClauseOutcome(REGISTRY[0], ClauseStatus.PASS, scenarios=1, judged=3, unjudged=1, reason="")
    said.clear()
    clause_printer(said.append, verbose=False)(short)
    assert said == [clause_line(short)] and said[0].endswith("3 calls judged, 1 not judged")
