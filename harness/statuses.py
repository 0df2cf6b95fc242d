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


class Verdict(StrEnum):
    """A certificate's verdict."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not_certified"
    INCONCLUSIVE = "inconclusive"
