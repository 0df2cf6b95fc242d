"""Evidence: what the certificate keeps of a scenario that fails a clause, leaves calls of it unjudged, or
cannot be judged, and the replayable file saved from it, with the clause, the implementation it was found
with (and the folder that implementation was imported from) and what certification said of it, so
`replay FILE` reruns it as is and says it again; with the history it was found with
(`harness.spec.output.timeline`: every rank's calls and the fingerprints of the collectives each one entered).
The certificate's evidence and the file are built here, the file a projection of the evidence (`FILE_KEYS`)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from ...errors import ScenarioError
from ...records.report import ScenarioResult, rank_summaries, render_report
from ...records.scenario import Scenario
from ...records.statuses import ClauseStatus
from ..judge.judging import ScenarioVerdict, unjudged_lines
from .timeline import history

if TYPE_CHECKING:
    from ..implementation import Implementation

EVIDENCE_FORMAT = "ddp-lifecycle-spec/evidence/v1"
MAX_VIOLATIONS = 20
FILE_KEYS = (
    "implementation",
    "pythonpath",
    "status",
    "reason",
    "judged",
    "unjudged",
    "kind",
    "unjudged_call",
    "reproduces_alone",
    "earlier",
    "violations",
    "scenario",
    "history",
)
"""What an evidence file keeps of the certificate's evidence: the scenario to replay and what it was found with."""
RECORDED = ("clause", *FILE_KEYS)  # what `replay` reads back of an evidence file


def build_evidence(
    scenario: Scenario, result: ScenarioResult, verdict: ScenarioVerdict, shrunk: bool, implementation: Implementation
) -> dict:
    """What the certificate keeps of a scenario that is not a pass (with its own status, reason and
    counts, which a replay of its file must give again); `scenario_file` is filled in once it is saved."""
    violations = verdict.violations
    unjudged_call = verdict.unjudged_call
    return {
        "scenario_name": scenario.name,
        "world_size": scenario.world_size,
        "shrunk": shrunk,
        "status": verdict.status,
        "reason": verdict.reason,
        "judged": verdict.judged,
        "unjudged": verdict.unjudged,
        "kind": violations[0].kind if violations else None,
        "unjudged_call": unjudged_call.to_dict() if unjudged_call else None,
        "unjudged_calls": unjudged_lines(result) if verdict.status == ClauseStatus.INCOMPLETE else [],
        "violations": [str(v) for v in violations[:MAX_VIOLATIONS]],
        "violation_kinds": sorted({v.kind for v in violations}),
        "violations_total": len(violations),
        "report": render_report(result, output=False, timed=False),
        "duration_s": round(result.duration_s, 3),
        "ranks": rank_summaries(result),
        "scenario": scenario.to_dict(),
        "history": history(result, violations),
        "scenario_file": None,
        "implementation": implementation.spec,
        "pythonpath": list(implementation.pythonpath),
    }


def evidence_file(clause_id: str, evidence: dict) -> dict:
    """What an evidence file holds: its format and clause, and `FILE_KEYS` of the evidence."""
    return {"format": EVIDENCE_FORMAT, "clause": clause_id} | {key: evidence.get(key) for key in FILE_KEYS}


def write_evidence(folder: str, clause_id: str, evidence: dict) -> str:
    """Save `evidence` as a replayable file in `folder`; its absolute path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.abspath(os.path.join(folder, f"{clause_id}-{evidence['scenario_name']}.json"))
    with open(path, "w") as f:
        json.dump(evidence_file(clause_id, evidence), f, indent=1)
    return path


def read_replayable(data: bytes) -> tuple[Scenario, dict]:
    """A scenario file or an evidence file, from its bytes: the scenario, and what was recorded with it
    ({} for a plain scenario file)."""
    try:
        data = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"the scenario is not UTF-8 text (byte {exc.start}: {data[exc.start]:#04x})") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"malformed scenario JSON: {exc}") from None
    if isinstance(data, dict) and str(data.get("format", "")).startswith("ddp-lifecycle-spec/evidence/"):
        return Scenario.from_dict(data.get("scenario")), {k: data.get(k) for k in RECORDED}
    return Scenario.from_dict(data), {}


def read_scenario_file(path: str) -> tuple[Scenario, dict]:
    """`read_replayable` of a file, with one-line errors for a file that cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path!r}: {exc.strerror}") from None
    try:
        return read_replayable(data)
    except ScenarioError as exc:
        raise ScenarioError(f"scenario {path!r}: {exc}") from None
