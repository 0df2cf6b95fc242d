"""The reference `SeedSlot`: upstream's lifecycle with a rank-0 authoritative, call-checked gate sync."""

from .errors import (
    CollectiveFailedError,
    DecisionMismatchError,
    EarlyExitDisagreementError,
    LifecycleSyncError,
)
from .gates import (
    CallableGates,
    GateEvaluator,
    GateLevel,
    GateResult,
    LifecycleGates,
    SeedMetrics,
)
from .slot import SeedSlot, SeedState
from .stages import SeedStage
from .sync import CallIdentity, sync_gate_decision

__version__ = "0.3.0"

__all__ = [
    "CallIdentity",
    "CallableGates",
    "CollectiveFailedError",
    "DecisionMismatchError",
    "EarlyExitDisagreementError",
    "GateEvaluator",
    "GateLevel",
    "GateResult",
    "LifecycleGates",
    "LifecycleSyncError",
    "SeedMetrics",
    "SeedSlot",
    "SeedStage",
    "SeedState",
    "sync_gate_decision",
]
