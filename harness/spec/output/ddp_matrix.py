"""The certificate's DDP configuration table: per configuration, whether the module trained in every stage.

Read from the model scenarios a certification ran, grouped by the configuration each trained under
(`harness.records.ddp_configs`), and judged as D1 and D2 judge them; a configuration that failed names the
scenario and the first violation (the stage, the call and the parameters left without a gradient).
A scenario in which the ranks' lifecycles diverged (some call left the ranks in different stages, as C1
finds it: `harness.spec.judge.checks.divergence`) says nothing about the configuration: the modules differ
because the lifecycle did, which C1 reports. It is counted as not judged, and a configuration only such
scenarios reached is `not judged`, with the call.
"""

from __future__ import annotations

from ...records.ddp_configs import CONFIGS
from ...records.report import ScenarioResult
from ..judge import checks, model_checks
from ..judge.judging import unusable

TRAINS = "trains in every stage"
FAILS = "fails"
NOT_JUDGED = "not judged"
NOT_RUN = "not run"


def summarize(results: list[ScenarioResult], declared: tuple[str, ...]) -> dict:
    """`{configuration: {declared, status, scenarios, problem}}` over the matrix, in its order."""
    table = {name: {"declared": name in declared, "status": NOT_RUN, "scenarios": 0, "problem": ""} for name in CONFIGS}
    lifecycle: dict[str, list[str]] = {name: [] for name in CONFIGS}
    for result in results:
        if not result.scenario.model:
            continue
        row = table[result.scenario.ddp]
        row["scenarios"] += 1
        if unusable(result) is not None:
            continue
        divergence = checks.divergence(result)
        if divergence is not None:
            lifecycle[result.scenario.ddp].append(f"{result.scenario.name}: {divergence.text}")
            continue
        try:
            violations = model_checks.model(result).violations
        except Exception:  # an unreadable result: the clauses report it as `error`, with its cause
            continue
        if violations and not row["problem"]:
            row["status"], row["problem"] = FAILS, f"{result.scenario.name}: {violations[0].text}"
        elif row["status"] == NOT_RUN:
            row["status"] = TRAINS
    for name, found in lifecycle.items():
        row = table[name]
        if not found or row["status"] == FAILS:
            continue
        because = f"the ranks' lifecycles diverged, which C1 reports, not the configuration (first: {found[0]})"
        if row["status"] == NOT_RUN:
            row["status"], row["problem"] = NOT_JUDGED, f"every scenario it ran is unjudged: {because}"
        else:
            row["problem"] = f"{len(found)} of {row['scenarios']} scenarios unjudged: {because}"
    return table


def to_markdown(table: dict) -> list[str]:
    if not any(row["scenarios"] for row in table.values()):
        return []
    lines = ["## DDP configurations", "", "| configuration | declared | scenarios | result |", "|---|---|---|---|"]
    for name, row in table.items():
        result = (row["status"] if not row["problem"] else f"{row['status']}: {row['problem']}").replace("|", "\\|")
        declared = "yes" if row["declared"] else "no"
        lines.append(f"| `{CONFIGS[name].spelled}` | {declared} | {row['scenarios']} | {result} |")
    return lines
