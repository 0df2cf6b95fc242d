"""The reference `SeedSlot`: upstream's lifecycle with a rank-0 authoritative, call-checked gate sync."""

from reference_impl.errors import (
    CollectiveFailedError,
    DecisionMismatchError,
    EarlyExitDisagreementError,
    LifecycleSyncError,
)
from reference_impl.gates import (
    CallableGates,
    GateEvaluator,
    GateLevel,
    GateResult,
    LifecycleGates,
    SeedMetrics,
)
from reference_impl.slot import SeedSlot, SeedState
from reference_impl.stages import SeedStage
from reference_impl.sync import CallIdentity, sync_gate_decision

__version__ = "0.1.0"

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
