"""Evidence files: a scenario that fails a clause, or leaves calls of it unjudged, or cannot be judged,
saved with the clause, the implementation it was found with (and the folder that implementation was
imported from) and what certification said of it, so `replay FILE` reruns it as is and says it again.;
with the history it was found with (`harness.spec.timeline`: every rank's calls and the fingerprints
of the collectives each one entered)."""

from __future__ import annotations

import json

from ...errors import ScenarioError
from ...records.scenario import Scenario

EVIDENCE_FORMAT = "ddp-lifecycle-spec/evidence/v1"
RECORDED = ("clause", "implementation", "pythonpath", "status", "reason", "judged", "unjudged", "kind")


def evidence_file(clause_id: str, evidence: dict) -> dict:
    """What an evidence file holds: the scenario to replay, and what it was found with."""
    return {
        "format": EVIDENCE_FORMAT,
        "clause": clause_id,
        "implementation": evidence["implementation"],
        "pythonpath": evidence["pythonpath"],
        "status": evidence["status"],
        "reason": evidence["reason"],
        "judged": evidence["judged"],
        "unjudged": evidence["unjudged"],
        "kind": evidence["kind"],
        "unjudged_call": evidence["unjudged_call"],
        "violations": evidence["violations"],
        "scenario": evidence["scenario"],
        "history": evidence.get("history"),
    }


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
