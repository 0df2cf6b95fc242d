"""A multi-process gloo harness for DDP lifecycle correctness, and the specification suite on top.

Data flows one way: a `Scenario` goes to the ranks of a `World`, each rank's history comes back in a
`ScenarioResult`, the spec's checks read it, and a report or certificate is written from them.
"""

from .errors import ScenarioError, WorldStartError
from .pool import WorldPool
from .report import RankOutcome, ScenarioResult
from .scenario import GateQuery, Op, Scenario
from .world import World, WorldConfig

__version__ = "0.1.0"

__all__ = [
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
