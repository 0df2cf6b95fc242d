"""SPEC.md, generated from the clause registry (a test keeps the committed file in step with it)."""

from __future__ import annotations

from harness.adapter import CAPABILITIES
from harness.spec.clauses import PROFILES, REGISTRY

HEADER = """# DDP lifecycle specification

Generated from `harness/spec/clauses.py` by `python -m harness spec > SPEC.md`; do not edit by hand.

A clause ID is stable: once published it is never renamed or reused. `MUST` clauses decide the
verdict; a clause whose capabilities the adapter does not declare is reported `not_claimed`, and
under a launcher (`--launcher env`) a clause whose scenarios all need a harness-managed world is
`skipped`; neither counts towards the verdict. Profile `core` is the fix of BUG-030; profile
`strict` is what that fix leaves open; profile `ddp` checks the consequence itself, a real
DistributedDataParallel model that must stay identical on every rank.
"""


def render() -> str:
    lines = [HEADER, "## Capabilities", ""]
    lines += [f"- `{name}`: {text}" for name, text in CAPABILITIES.items()]
    for profile in PROFILES:
        lines += ["", f"## Profile `{profile}`"]
        for clause in (c for c in REGISTRY if c.profile == profile):
            needs = ", ".join(f"`{c}`" for c in sorted(clause.requires))
            lines += [
                "",
                f"### {clause.id} {clause.title} ({clause.level})",
                "",
                clause.statement,
                "",
                f"- Rationale: {clause.rationale}",
                f"- Checked by: {clause.method}",
                f"- Requires: {needs}",
            ]
    return "\n".join(lines) + "\n"
