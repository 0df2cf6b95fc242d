"""The seam between the harness and an implementation under test.

The harness never imports an implementation's internals: it drives it through an adapter, an object
with the methods of `LifecycleAdapter`, named as `MODULE:ATTR` where ATTR is the adapter class (or
any zero-argument callable returning one). Every rank builds a fresh adapter per scenario.

Stages cross the seam as the contract's integers (`harness.contract.Stage`), gate results as plain
field dicts (`RESULT_FIELDS`). An adapter declares what it can do in `capabilities`; a clause that
needs a capability the adapter did not declare is reported `not_claimed`, never `pass`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

RESULT_FIELDS = ("gate", "passed", "score", "checks_passed", "checks_failed", "message")

SCRIPTED_GATES = "scripted_gates"
METRICS = "metrics"
PRUNE = "prune"
EPOCH_CLOCK = "epoch_clock"
SIDE_EFFECTS = "side_effects"
MODULE = "module"

REQUIRED_MEMBERS = (
    "name",
    "version",
    "capabilities",
    "make_slot",
    "germinate",
    "advance",
    "result_fields",
    "stage",
    "snapshot",
)

CAPABILITIES = {
    SCRIPTED_GATES: "install_gate() and make_result(): the harness decides each rank's local gate result",
    METRICS: "set_metrics(): each rank's real gates read metrics the harness gives it",
    PRUNE: "prune() moves an active seed to PRUNED",
    EPOCH_CLOCK: "step_epoch() runs the cool-down pipeline PRUNED -> EMBARGOED -> RESETTING -> DORMANT",
    SIDE_EFFECTS: "snapshot() reports alpha, alpha_target and epochs_in_stage",
    MODULE: (
        "module() and module_shape(): the slot's part of the model as a torch.nn.Module, which the harness"
        " trains under DistributedDataParallel"
    ),
}


@runtime_checkable
class LifecycleAdapter(Protocol):
    name: str
    version: str
    capabilities: frozenset[str]

    def make_slot(self, slot_id: str) -> Any:
        """A new, empty slot (no seed)."""

    def germinate(self, slot: Any, seed_id: str, blueprint_id: str) -> None: ...

    def advance(self, slot: Any, target: int | None) -> Any:
        """`advance_stage(target)`; returns the implementation's own gate result object."""

    def result_fields(self, result: Any) -> dict:
        """The `RESULT_FIELDS` of a gate result, `gate` as an int, check lists as lists of str."""

    def stage(self, slot: Any) -> int | None:
        """The slot's stage, or None when it holds no seed."""

    def snapshot(self, slot: Any) -> dict:
        """A JSON-able record of the slot, with at least `stage` and `stage_history`."""

    def make_result(self, fields: dict) -> Any:
        """[scripted_gates] Build a native gate result from `RESULT_FIELDS`."""

    def install_gate(self, slot: Any, evaluate: Callable[[int], Any]) -> None:
        """[scripted_gates] Make `evaluate(target)` the slot's local gate; it returns a native result."""

    def set_metrics(self, slot: Any, metrics: dict) -> None:
        """[metrics] Give this rank's seed in `slot` the metrics its real gates read."""

    def prune(self, slot: Any) -> None:
        """[prune]"""

    def step_epoch(self, slot: Any) -> None:
        """[epoch_clock]"""

    def module(self, slot: Any) -> Any:
        """[module] The slot's part of the model: a `torch.nn.Module` whose forward maps a batch of
        features of shape `(batch, *module_shape(slot))` to the same shape, e.g. a slot that is itself
        a module returns the slot:

            def module(self, slot):
                return slot  # forward(x): x, or x + alpha * seed(x) while the seed blends

        The harness asks for it after every call, builds a host network (a stem, every slot's module
        in slot order, a head) and trains it under DistributedDataParallel; the module's parameters
        may change with the lifecycle (a germinated seed adds some, a pruned one removes them)."""

    def module_shape(self, slot: Any) -> tuple[int, ...]:
        """[module] The per-sample feature shape the module takes and returns, e.g. `(8,)`."""


class AdapterLoadError(Exception):
    """`MODULE:ATTR` does not name a usable adapter; the message is one line for the user."""


def load_adapter_factory(spec: str) -> Callable[[], Any]:
    """Resolve `MODULE:ATTR` to a zero-argument adapter factory, with one-line errors."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise AdapterLoadError(f"implementation {spec!r} is not of the form MODULE:ATTR")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AdapterLoadError(
            f"cannot import module {module_name!r} for implementation {spec!r}: {type(exc).__name__}: {exc}"
        ) from exc
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise AdapterLoadError(f"module {module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise AdapterLoadError(f"{spec!r} is not an adapter class or factory (got {type(target).__name__})")
    return target


def check_adapter(adapter: Any, spec: str) -> None:
    """Reject an object that is not an adapter, naming what it lacks."""
    missing = [name for name in REQUIRED_MEMBERS if not hasattr(adapter, name)]
    if missing:
        raise AdapterLoadError(f"{spec!r} did not produce an adapter: it lacks {', '.join(missing)}")
    unknown = set(adapter.capabilities) - set(CAPABILITIES)
    if unknown:
        raise AdapterLoadError(f"{spec!r} declares unknown capabilities: {', '.join(sorted(unknown))}")


def result_dict(fields: dict) -> dict:
    """Normalise a field dict so results from different ranks and implementations compare equal."""
    return {
        "gate": int(fields["gate"]),
        "passed": bool(fields["passed"]),
        "score": float(fields["score"]),
        "checks_passed": [str(c) for c in fields["checks_passed"]],
        "checks_failed": [str(c) for c in fields["checks_failed"]],
        "message": str(fields["message"]),
    }
