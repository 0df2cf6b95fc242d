"""The certificate: a verdict, clause by clause, with the evidence behind every failure.

The environment section records versions and platform only; of the environment variables, only
those in `ENV_ALLOWLIST` are written, so a certificate can be published without leaking secrets.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from ...locations import HARNESS, PACKAGE_DIR
from ...records.statuses import ClauseStatus, Verdict
from ..clauses import MUST
from ..implementation import Implementation
from ..runner import ClauseOutcome
from . import coverage as coverage_table
from . import ddp_matrix, timeline_html

SCHEMA = "ddp-lifecycle-spec/certificate/v2"
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "certificate.schema.json")
EXIT_CODES = {Verdict.CERTIFIED: 0, Verdict.NOT_CERTIFIED: 1, Verdict.INCONCLUSIVE: 2}
EXPLAINED = (ClauseStatus.FAIL, ClauseStatus.ERROR, ClauseStatus.INCOMPLETE)
ENV_ALLOWLIST = ("LIFECYCLE_SPEC_IMPL", "TORCH_DISTRIBUTED_DEBUG", "GLOO_SOCKET_IFNAME", "NCCL_DEBUG")


@dataclass(frozen=True)
class VerdictRule:
    """One rule of the verdict: `verdict` when `applies(outcomes, interrupted)`; `when` says it in SPEC.md."""

    verdict: Verdict
    when: str
    applies: Callable[[list[ClauseOutcome], bool], bool]


VERDICT_RULES = (
    VerdictRule(
        Verdict.NOT_CERTIFIED,
        "any `MUST` clause is `fail`",
        lambda outcomes, _: any(o.status == ClauseStatus.FAIL and o.clause.level == MUST for o in outcomes),
    ),
    VerdictRule(Verdict.INCONCLUSIVE, "the run was interrupted", lambda _, interrupted: interrupted),
    VerdictRule(
        Verdict.INCONCLUSIVE,
        "any clause is `error` or `incomplete`",
        lambda outcomes, _: any(o.status in (ClauseStatus.ERROR, ClauseStatus.INCOMPLETE) for o in outcomes),
    ),
    VerdictRule(
        Verdict.INCONCLUSIVE,
        "no clause is `pass`",
        lambda outcomes, _: not any(o.status == ClauseStatus.PASS for o in outcomes),
    ),
)
"""The verdict is the first rule that applies, in this order; `certified` when none does. Clauses of any other
status (`not_claimed`, `skipped`, `not_run`, `not_exercised`, a failed `SHOULD`) are listed and count for no
rule: they checked nothing, so they neither certify nor reject."""


def verdict(outcomes: list[ClauseOutcome], interrupted: bool) -> Verdict:
    """The verdict of `VERDICT_RULES` for these outcomes."""
    return next((r.verdict for r in VERDICT_RULES if r.applies(outcomes, interrupted)), Verdict.CERTIFIED)


def suite_commit() -> str:
    """The suite's git commit: recorded in the package when a wheel was built (`BUILD_COMMIT`), else the
    checkout's own, else "unknown" (a copy vendored into another repository is not that repository's commit)."""
    package_dir = PACKAGE_DIR
    try:
        with open(os.path.join(package_dir, "BUILD_COMMIT")) as recorded:
            return recorded.read().strip() or "unknown"
    except OSError:
        pass
    checkout = os.path.dirname(package_dir)
    if not os.path.exists(os.path.join(checkout, "pyproject.toml")):
        return "unknown"
    try:
        done = subprocess.run(
            ["git", "-C", checkout, "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or os.path.realpath(lines[0]) != os.path.realpath(checkout):
        return "unknown"
    return lines[1]


def environment(backend: str) -> dict:
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "backend": backend,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "variables": {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ},
    }


def build(
    implementation: Implementation,
    outcomes: list[ClauseOutcome],
    *,
    world_sizes: list[int],
    seed: int,
    profile: str,
    duration_s: float,
    interrupted: bool,
    backend: str,
    suite_version: str,
    launcher: str = "spawn",
    coverage: dict | None = None,
    misalignment: dict | None = None,
    ddp_configurations: dict | None = None,
) -> dict:
    result = verdict(outcomes, interrupted)
    return {
        "schema": SCHEMA,
        "verdict": result,
        "interrupted": interrupted,
        "implementation": {
            "name": implementation.name,
            "version": implementation.version,
            "spec": implementation.spec,
            "capabilities": sorted(implementation.capabilities),
            "ddp_configurations": list(implementation.ddp_configurations),
        },
        "suite": {"version": suite_version, "commit": suite_commit(), "profile": profile},
        "environment": environment(backend),
        "launcher": launcher,
        "world_sizes": world_sizes,
        "seed": seed,
        "clauses": [
            {
                "id": o.clause.id,
                "level": o.clause.level,
                "profile": o.clause.profile,
                "title": o.clause.title,
                "status": o.status,
                "scenarios": o.scenarios,
                "judged": o.judged,
                "unjudged": o.unjudged,
                "reason": o.reason,
                "evidence": o.evidence if o.status in EXPLAINED else None,
                "skipped": o.skipped,
                "runs": o.runs,
            }
            for o in outcomes
        ],
        "coverage": coverage or {},
        "misalignment_coverage": misalignment or {},
        "ddp_configurations": ddp_configurations or {},
        "duration_s": round(duration_s, 3),
    }


def to_markdown(certificate: dict) -> str:
    impl = certificate["implementation"]
    lines = [
        f"# Certificate: {impl['name']} {impl['version']}",
        "",
        f"**Verdict: {certificate['verdict']}**"
        + (" (interrupted: only the clauses listed as checked were checked)" if certificate["interrupted"] else ""),
        "",
        f"- implementation: `{impl['spec']}`, capabilities: {', '.join(impl['capabilities']) or 'none'}",
        f"- suite: {certificate['suite']['version']} ({certificate['suite']['commit']}),"
        f" profile {certificate['suite']['profile']}",
        f"- world sizes: {certificate['world_sizes']}, seed {certificate['seed']}, {certificate['duration_s']:.1f}s,"
        f" launcher {certificate['launcher']}",
        f"- environment: python {certificate['environment']['python']},"
        f" torch {certificate['environment']['torch']}, {certificate['environment']['backend']},"
        f" {certificate['environment']['platform']}",
        "",
        "| clause | level | profile | title | status | scenarios | calls judged | not judged | reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in certificate["clauses"]:
        reason = c["reason"].replace("|", "\\|").replace("\n", " ")
        cells = (c["id"], c["level"], c["profile"], c["title"], c["status"], c["scenarios"])
        cells += (c["judged"], c["unjudged"], reason)
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += ["", *coverage_table.to_markdown(certificate.get("coverage", {}))]
    misaligned = coverage_table.misalignment_markdown(certificate.get("misalignment_coverage", {}))
    lines += ["", *misaligned] if misaligned else []
    matrix = ddp_matrix.to_markdown(certificate.get("ddp_configurations", {}))
    lines += ["", *matrix] if matrix else []
    reported: dict[str, str] = {}  # a report already shown, by the first clause whose evidence it is
    for c in certificate["clauses"]:
        evidence = c["evidence"]
        if not evidence:
            continue
        lines += ["", f"## {c['id']} {c['title']}: {c['status']}", ""]
        if evidence["scenario_file"]:
            lines.append(f"Replay: `{replay_command(evidence, c['id'])}`")
        if caveat := alone_caveat(evidence):
            lines.append(caveat)
        if evidence.get("unjudged_call"):
            lines += ["", f"Not judged: {evidence['reason']}"]
            lines += [f"- {line}" for line in evidence.get("unjudged_calls", [])]
        total, shown = evidence.get("violations_total", 0), len(evidence["violations"])
        more = [f"... and {total - shown} more violations"] if total > shown else []
        first = reported.setdefault(same_run(evidence), c["id"])
        report = evidence["report"] if first == c["id"] else f"(the ranks' report: the same run as under {first} above)"
        lines += ["", "```", *evidence["violations"], *more, "", report, "```"]
    skipped = [(c["id"], name) for c in certificate["clauses"] for name in c["skipped"]]
    if skipped:
        lines += ["", "## Skipped scenarios", ""] + [f"- {clause}: {name}" for clause, name in skipped]
    return "\n".join(lines) + "\n"


def same_run(evidence: dict) -> str:
    """What two clauses' evidence shares when it is one run's: the same scenario and the same ranks' report.
    A run's report is shown once; the same report text from another scenario is another run."""
    return json.dumps([evidence.get("scenario"), evidence.get("report")], sort_keys=True)


def alone_caveat(evidence: dict) -> str:
    """What to know before replaying evidence that a world of its own did not show again ("" otherwise):
    every route that offers the replay says it, and `replay` again when its answer differs."""
    if evidence.get("reproduces_alone") is not False:
        return ""
    what, replayed = (
        ("showed no such violation", "pass")
        if evidence.get("status") == "fail"
        else ("did not stop judging at the same call with the same counts", "say otherwise")
    )
    earlier = evidence.get("earlier") or {}
    if earlier.get("scenarios") == 0:
        return (
            f"A world of its own {what}, though this run too was the first in its rank processes: what it"
            f" found depends on timing or on something outside them; a replay of this file may {replayed}."
        )
    after = "earlier scenarios ran"
    if earlier.get("scenarios"):
        count, calls = earlier["scenarios"], earlier["calls"]
        runs = f"{count} earlier run{'s' if count > 1 else ''}"
        after = f"{runs} of this implementation (shrink candidates counted; {calls} calls of every op)"
    return (
        f"Found after {after} in the same rank processes; a world of its own {what} (the implementation"
        f" keeps state across scenarios): a replay of this file alone may {replayed}; certifying again (certify"
        " or the pytest route) with the same options runs the same scenarios before it."
    )


def replay_command(evidence: dict, clause_id: str | None) -> str:
    """A command that replays the evidence from any folder: the interpreter that certified, absolute
    paths, and the PYTHONPATH the suite and the adapter were imported through when neither is installed."""
    python = shlex.quote(sys.executable)
    command = f"{python} -m {HARNESS} replay {shlex.quote(os.path.abspath(evidence['scenario_file']))}"
    command += f" --clause {clause_id}" if clause_id else ""
    if evidence.get("pythonpath"):
        command = f"PYTHONPATH={shlex.quote(os.pathsep.join(evidence['pythonpath']))} {command}"
    return command


def write(certificate: dict, out_dir: str) -> tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, "certificate.json")
    md_path = os.path.join(out_dir, "certificate.md")
    with open(json_path, "w") as f:
        json.dump(certificate, f, indent=1)
    with open(md_path, "w") as f:
        f.write(to_markdown(certificate))
    timeline_html.write(certificate, out_dir)
    return json_path, md_path
