"""SPEC.md, generated from the clause registry (a test keeps the committed file in step with it)."""

from __future__ import annotations

import textwrap

from ...rankside.adapter import CAPABILITIES
from ...records.contract import ALLOWED, FAILURE, GATE_LEVEL, MAX_EMBARGO_EPOCHS, Stage, default_target
from ...records.profiles import PROFILES
from ...records.statuses import CLAUSE_STATUS_MEANINGS, Verdict
from .. import variation
from ..clauses import REGISTRY
from .certificate import VERDICT_RULES

STATUSES_INTRO = """## Statuses and verdict

Every check counts the calls it judged and the calls it could not judge (a rank raised, hung, died
or stopped before them). A clause is:
"""


def statuses_section() -> str:
    """The statuses and the verdict rules, from the code the certificate uses (`harness.records.statuses`,
    `harness.spec.certificate.VERDICT_RULES`), so SPEC.md cannot differ from it."""
    lines = [STATUSES_INTRO]
    lines += [_wrapped(f"- `{status}`: {meaning};") for status, meaning in CLAUSE_STATUS_MEANINGS.items()]
    lines += ["", "The verdict is the first of these that applies:", ""]
    lines += [f"{i}. `{rule.verdict}` when {rule.when};" for i, rule in enumerate(VERDICT_RULES, 1)]
    lines += [f"{len(VERDICT_RULES) + 1}. `{Verdict.CERTIFIED}` otherwise.", ""]
    lines += [
        _wrapped(
            "Clauses of any other status (`not_claimed`, `skipped`, `not_run`, a failed `SHOULD`) are listed and"
            " count for no rule."
        ),
        "",
    ]
    return "\n".join(lines) + "\n"


def _wrapped(text: str) -> str:
    return textwrap.fill(
        text, width=100, break_on_hyphens=False, subsequent_indent="  " if text.startswith("- ") else ""
    )


HEADER = """# DDP lifecycle specification

Generated from `harness/spec/clauses.py` by `python -m harness spec > SPEC.md`; do not edit by hand.

A clause ID is stable: once published it is never renamed or reused. Profile `core` is the fix of
BUG-030; profile `strict` is what that fix leaves open; profile `ddp` checks the consequence itself,
a real DistributedDataParallel model that must stay identical on every rank. A clause forbids only what breaks DDP
lifecycle correctness or the documented contract; where upstream versions legitimately differ, each
behaviour is accepted (see C7), and a set of legitimate variants (`tests/good_impls/`) must be
certified by every version of this suite.

{statuses}
## Gate results: what must round-trip

The corpus gives every rank its own local result per call, and varies every field: named edge
cases (messages from empty to over 64 KiB with non-ASCII text, newlines and NUL; check lists from
empty to hundreds of entries, duplicated, in no sorted order; scores 0.0, -0.0, 1.0, subnormal,
1e308, inf and NaN) mixed with results drawn by a seeded generator over each field's whole space:
messages of any Unicode scalar value (control characters, whitespace and combining marks favoured at
both ends), at every length from 0 to beyond 1 KiB and two either side of every power of two up to
64 KiB, counted in code points and in UTF-8 bytes (the framing boundaries of any implementation;
the lengths are shared out among the distributed world sizes of a run, each judged once); check
lists of any length, order and duplication; scores of any float64 bit pattern (NaNs with payloads included). Every
rank must return rank 0's `gate`, `passed`, both check lists (in order, duplicates kept) and score
(bit for bit: -0.0 is not 0.0; a NaN must arrive as a NaN, any NaN) exactly, and rank 0's message
character for character, possibly followed by one parenthesised suffix, which on an overruled rank
must be exactly ` (local=<bool>, synced from rank0=<bool>)`. Each local result is unique to its rank
and call, so any returned result is traced to the rank and call that decided it.

## Failure markers

Three strings name, in a result's `checks_failed`, why `advance_stage` failed without a gate's own
verdict. Each goes in `checks_failed` (never in `checks_passed`, never only in the message), the
result has `passed=False`, and the stage does not move; C7 reads them there.

- `transition_failed`: the synced decision passed, but the transition table refuses the target
  from the current stage (a gated target the table forbids; an ungated target refused after its
  round). Append it to the gate's own `checks_failed`, e.g. `advance_stage(FOSSILIZED)` from
  TRAINING when G5 passed: `{"gate": 5, "passed": false, "score": 1.0, "checks_passed":
  ["contribution_known", "healthy"], "checks_failed": ["transition_failed"], "message":
  "G5 passed [transition TRAINING->FOSSILIZED refused]"}`.
- `no_valid_transition`: the stage has no transition to take (FOSSILIZED, or a default target that
  no gate guards, such as RESETTING -> DORMANT, which the epoch clock drives), e.g. `advance_stage()`
  on a FOSSILIZED seed: `{"gate": 0, "passed": false, "score": 0.0, "checks_passed": [],
  "checks_failed": ["no_valid_transition"], "message": "no valid transition from FOSSILIZED"}`.
- `no_active_seed`: the slot holds no seed (never germinated, or pruned and reset), e.g.
  `advance_stage()` on an empty slot: `{"gate": 0, "passed": false, "score": 0.0, "checks_passed":
  [], "checks_failed": ["no_active_seed"], "message": "no active seed"}`.

The other fields (gate level, score, message wording) are the implementation's; only the marker's
place is the contract.

## Explained verdicts

A clause that is not `pass` says why, in the same words on every route (the certify line, the
certificate, `replay` and the pytest route), and keeps the scenario as a replayable file. An
`incomplete` clause names the first scenario whose calls went unjudged, the rank and the call where
judging stopped, and what happened there, in one vocabulary: the call *raised* (the exception's type,
its message and the implementation's frame), the rank *hung* (it made no progress, or deadlocked in
a collective), *died* (its exit code or the signal that killed it), or *stopped* (its call ended in a
collective another rank's failure broke). For example: `8 of the 124 calls this clause reads in
scenario 'regrow-ws2' were never judged: judging stopped at call #12 germinate 'a', ranks 0, 1 raised
RuntimeError: slot 'a' is embargoed (at mypkg/slot.py:88 in germinate), and stopped there; no violation
among the others`. `replay` of that
file gives the same status, the same counts and the same reason, and lists per rank the calls it
could not judge and why.

## Coverage

Besides the random corpus, at every world size the suite judges every gated step of the transition
table from every gate-reachable stage: the forward step through the default target and through an
explicit one, the backward step HOLDING -> BLENDING, and every gated target the table forbids from
that stage (which must fail on every rank after its round), each with rank 0 passing and failing,
against every set of dissenting ranks (the empty set included), and every payload from rank 0. The
certificate's coverage table lists every such step at every world size, `not judged` where none was.
A violation of C3 names the first differing position of a text or list (or a score's bit pattern)
and both values there.
S1 and S2 judge generated misalignments (see their "Checked by"); the certificate's misalignment
coverage states, per world size, the kinds judged and at which positions.
"""


def transitions_section() -> list[str]:
    """The transition table the clauses judge against (`harness.records.contract`), as users read it."""
    lines = [
        "## Transition table",
        "",
        "What `advance_stage(target)` may do from each stage of a seed when the gate passes: move to a target",
        "of its row, guarded by the gate named; no target takes the default. `germinate()` puts a seed in an",
        "empty (or DORMANT) slot, in GERMINATED. The failure stages (PRUNED, EMBARGOED, RESETTING) are entered",
        "by `prune()` and the epoch clock only, never by an advance; the embargo lasts the implementation's",
        f"choice of 0 to {MAX_EMBARGO_EPOCHS} epochs.",
        "",
        "| from | targets an advance may take (gate) | default target | the epoch clock moves it to |",
        "|---|---|---|---|",
    ]
    for stage, targets in ALLOWED.items():
        if stage in (Stage.UNKNOWN, Stage.DORMANT):
            continue
        gated = ", ".join(f"{t.name} (G{GATE_LEVEL[t]})" for t in targets if t in GATE_LEVEL) or "none"
        chosen = default_target(stage)
        default = chosen.name if chosen in GATE_LEVEL else "none: `no_valid_transition`"
        clock = ", ".join(t.name for t in targets if t not in GATE_LEVEL and stage in FAILURE) or "-"
        lines.append(f"| {stage.name} | {gated} | {default} | {clock} |")
    return lines


def render() -> str:
    lines = [HEADER.replace("{statuses}\n", statuses_section()), *variation.render(), ""]
    lines += [*transitions_section(), "", "## Capabilities", ""]
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
