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
    partial: dict[str, list[str]] = {name: [] for name in CONFIGS}  # scenarios some of whose calls were not judged
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
            judgement = model_checks.model(result)
        except Exception:  # an unreadable result: the clauses report it as `error`, with its cause
            continue
        if judgement.violations and not row["problem"]:
            row["status"], row["problem"] = FAILS, f"{result.scenario.name}: {judgement.violations[0].text}"
        elif judgement.unjudged:
            total = judgement.judged + judgement.unjudged
            partial[result.scenario.ddp].append(f"{result.scenario.name}: {judgement.unjudged} of {total} calls")
        elif row["status"] == NOT_RUN:
            row["status"] = TRAINS
    for name in CONFIGS:
        _unjudged(table[name], lifecycle[name], partial[name])
    return table


def _unjudged(row: dict, diverged: list[str], partial: list[str]) -> None:
    """Say in `row` which of its scenarios could not show the configuration training, and why; with none
    that could, the configuration is `not judged`."""
    if row["status"] == FAILS or not (diverged or partial):
        return
    because = []
    if diverged:
        because.append(
            f"the ranks' lifecycles diverged, which C1 reports, not the configuration (first: {diverged[0]})"
        )
    if partial:
        because.append(f"calls were never judged, which D1 reports (first: {partial[0]})")
    if row["status"] == NOT_RUN:
        row["status"], row["problem"] = NOT_JUDGED, f"every scenario it ran is unjudged: {'; '.join(because)}"
    else:
        count = len(diverged) + len(partial)
        row["problem"] = f"{count} of {row['scenarios']} scenarios unjudged: {'; '.join(because)}"


def to_markdown(table: dict) -> list[str]:
    if not any(row["scenarios"] for row in table.values()):
        return []
    lines = ["## DDP configurations", "", "| configuration | declared | scenarios | result |", "|---|---|---|---|"]
    for name, row in table.items():
        result = (row["status"] if not row["problem"] else f"{row['status']}: {row['problem']}").replace("|", "\\|")
        declared = "yes" if row["declared"] else "no"
        lines.append(f"| `{CONFIGS[name].spelled}` | {declared} | {row['scenarios']} | {result} |")
    return lines
