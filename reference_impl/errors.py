"""Errors the reference raises instead of hanging or applying a decision meant for another call.

All derive from `LifecycleSyncError`, so a training loop can catch the family in one place. Each
message names the rank that detected the problem, the slot and call on both sides, so a log line from
any one rank is enough to see what went wrong.
"""

from __future__ import annotations


class LifecycleSyncError(RuntimeError):
    """A gate-decision round could not be completed safely; the process group must not be trusted."""


class DecisionMismatchError(LifecycleSyncError):
    """Rank 0's decision was made for another slot, another transition or another call."""


class EarlyExitDisagreementError(DecisionMismatchError):
    """Ranks disagree on whether the slot has a seed or a transition to take: an early return before
    the collective would leave a rank waiting for a round the others never join."""


class CollectiveFailedError(LifecycleSyncError):
    """The broadcast itself failed: the process group's timeout expired or a peer went away."""
