"""The statuses and verdicts the harness reports, as string enums: each compares, formats, hashes and
serialises as its value, so JSON and text show `"ok"` or `pass`, and a value read back from a
certificate finds the same entry in a dict keyed by the enum."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """`enum.StrEnum` of Python 3.11, for 3.10 too."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    __hash__ = str.__hash__


class RankStatus(StrEnum):
    """How one rank's scenario ended."""

    OK = "ok"
    RAISED = "raised"
    HUNG = "hung"
    KILLED = "killed"
    EXITED = "exited"


DEAD = frozenset({RankStatus.EXITED, RankStatus.KILLED})  # the rank's process is gone


class ClauseStatus(StrEnum):
    """What a certification found for one clause (SPEC.md says what each means)."""

    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"
    NOT_EXERCISED = "not_exercised"
    ERROR = "error"
    NOT_CLAIMED = "not_claimed"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"


CLAUSE_STATUS_MEANINGS: dict[ClauseStatus, str] = {
    ClauseStatus.PASS: "every call it reads was judged, and none broke it",
    ClauseStatus.FAIL: (
        "some call broke it; the evidence is a shrunk scenario that fails for the same kind of violation and"
        " that the reference passes, with every violation listed (capped, with the total) in the evidence"
        " file's own call numbers"
    ),
    ClauseStatus.INCOMPLETE: "no violation, but some calls were never judged",
    ClauseStatus.ERROR: (
        "a scenario could not be judged at all (a rank could not set up; the adapter reported a value outside"
        " the contract, named in one line: a stage value the contract does not know, a string where an int is"
        " due, a result missing a field), no scenario checks the clause at the world sizes asked for (the reason"
        " names the world size it needs), or the run was interrupted before the clause was checked"
    ),
    ClauseStatus.NOT_EXERCISED: (
        "every call was judged, but in none of its scenarios did what the clause judges happen (no survivor's"
        " call raised, so there was no error message to read); the reason says what was not exercised and why"
    ),
    ClauseStatus.NOT_CLAIMED: (
        "the clause does not apply to what the adapter declares: a capability it needs is not declared, or"
        " nothing is left for it to check (D4 when every DDP configuration is declared); the reason says which"
    ),
    ClauseStatus.SKIPPED: (
        "under a launcher (`--launcher env`), every scenario of the clause needs a harness-managed world"
    ),
    ClauseStatus.NOT_RUN: "the run stopped before the clause, once `--maxfail` failed `MUST` clauses were reached",
}
"""What each clause status means, in the words SPEC.md prints (one entry per status, checked by a test)."""


class Verdict(StrEnum):
    """A certificate's verdict."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not_certified"
    INCONCLUSIVE = "inconclusive"
