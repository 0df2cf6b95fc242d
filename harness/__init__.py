"""A multi-process gloo harness for DDP lifecycle correctness, and the specification suite on top.

Data flows one way: a `Scenario` goes to the ranks of a `World`, each rank's history comes back in a
`ScenarioResult`, the spec's checks read it, and a report or certificate is written from them.
The public API for certifying an implementation is `certify` and `read_certificate` (`harness.api`),
imported on first use so that `import harness` stays light.
"""

from typing import Any

from .errors import ScenarioError, WorldStartError
from .records.report import RankOutcome, ScenarioResult
from .records.scenario import GateQuery, Op, Scenario
from .worlds.pool import WorldPool
from .worlds.world import World, WorldConfig

__version__ = "0.3.0"

_LAZY = {"certify": "api", "read_certificate": "api"}

__all__ = [
    "certify",
    "read_certificate",
    "GateQuery",
    "Op",
    "RankOutcome",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "World",
    "WorldConfig",
    "WorldPool",
    "WorldStartError",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
