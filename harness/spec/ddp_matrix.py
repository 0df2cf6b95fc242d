"""The certificate's DDP configuration table: per configuration, whether the module trained in every stage.

Read from the model scenarios a certification ran, grouped by the configuration each trained under
(`harness.ddp_configs`), and judged as D1 and D2 judge them; a configuration that failed names the
scenario and the first violation (the stage, the call and the parameters left without a gradient).
"""

from __future__ import annotations

from ..ddp_configs import CONFIGS
from ..report import ScenarioResult
from . import model_checks
from .runner import unusable

TRAINS = "trains in every stage"
FAILS = "fails"
NOT_RUN = "not run"


def summarize(results: list[ScenarioResult], declared: tuple[str, ...]) -> dict:
    """`{configuration: {declared, status, scenarios, problem}}` over the matrix, in its order."""
    table = {name: {"declared": name in declared, "status": NOT_RUN, "scenarios": 0, "problem": ""} for name in CONFIGS}
    for result in results:
        if not result.scenario.model:
            continue
        row = table[result.scenario.ddp]
        row["scenarios"] += 1
        if unusable(result) is not None:
            continue
        try:
            violations = model_checks.model(result).violations
        except Exception:  # an unreadable result: the clauses report it as `error`, with its cause
            continue
        if violations and not row["problem"]:
            row["status"], row["problem"] = FAILS, f"{result.scenario.name}: {violations[0].text}"
        elif row["status"] == NOT_RUN:
            row["status"] = TRAINS
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
