"""This suite's own modules by their real import names, wherever the package was imported from.

The suite works installed (`harness`), vendored under any package path
(`third_party.ddp_lifecycle.harness`), or beside a downstream package that is itself called
`harness`: every module name it hands to another process (the forkserver's preload, an adapter path)
is built from `__package__`, never spelled out.
"""

from __future__ import annotations

import os

HARNESS = __package__ or "harness"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
"""The suite's package folder, wherever a module of it lives below."""
_PARENT = HARNESS.rpartition(".")[0]
REFERENCE_PACKAGE = f"{_PARENT}.reference_impl" if _PARENT else "reference_impl"
REFERENCE = f"{REFERENCE_PACKAGE}.adapter:Adapter"
SUITE_PACKAGE = f"{HARNESS}.spec.suite"
DEFECTS_PACKAGE = f"{REFERENCE_PACKAGE}.defects"


def module(name: str) -> str:
    """The import name of the suite's module `name` (e.g. "rank" -> "harness.rankside.rank")."""
    return f"{HARNESS}.{name}"


def defect(name: str) -> str:
    """The adapter path of the shipped known-bad variant `name` (`reference_impl.defects`)."""
    return f"{DEFECTS_PACKAGE}.{name}:Adapter"
