"""The harness's exceptions, in one place: each is reported to the user as one line, and each names
one kind of thing that went wrong, so a caller catches exactly what it can handle."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the command line; printed as one line."""


class AdapterLoadError(Exception):
    """`MODULE:ATTR` does not name a usable adapter; the message is one line for the user."""


class ContractValueError(Exception):
    """The adapter returned a value outside the contract; the message names the method, the value
    and what the contract expects, in one line."""


class ScenarioError(ValueError):
    """A scenario that cannot run; the message is one line naming what is wrong."""


class OutputPathError(ValueError):
    """An output path that cannot be written; the message is one line for the user."""


class WorldStartError(RuntimeError):
    """The ranks could not form a world; the message carries each rank's output."""


class WorldLost(RuntimeError):
    """A launcher's process group is unusable (a failed collective, a lost peer) and cannot be rebuilt."""


class ScenarioSkipped(Exception):
    """This world cannot run the scenario; the message says why, in one line, for the certificate."""
