"""The seam between the harness and an implementation under test.

The harness never imports an implementation's internals: it drives it through an adapter, an object
with the methods of `LifecycleAdapter`, named as `MODULE:ATTR` where ATTR is the adapter class (or
any zero-argument callable returning one). Every rank builds a fresh adapter per scenario.

Stages cross the seam as the contract's integers (`harness.records.contract.Stage`), gate results as plain
field dicts (`RESULT_FIELDS`). An adapter declares what it can do in `capabilities`; a clause that
needs a capability the adapter did not declare is reported `not_claimed`, never `pass`.

Values outside the contract are the adapter's to map: an implementation with stages beyond the
contract (older upstream versions had SHADOWING=5, PROBATIONARY=6 and CULLED=8) maps each to the
contract stage that plays its part (for example SHADOWING to BLENDING, PROBATIONARY to HOLDING,
CULLED to PRUNED) in `stage()` and `snapshot()`. A value the contract does not know, a string where an
int is due, or a result missing a field is never a crash: the clauses reading that scenario are
`error`, with one line naming the adapter method, the value and what the contract expects.

What `install_gate` replaces is the gate's *decision* and nothing else: `evaluate(target)` stands
for the local evaluation of the gate guarding `target` (what upstream's `check_gate` returns). The
implementation's own argument checks (a failure stage as target, an unmapped target), its early
exits, its sync round and its state machine stay as they are, and run around that decision.
`germinate()` checks G0 locally from the seed and blueprint ids and never goes through the sync; it
may call the installed gate for G0 (the harness then answers with a passing result) or not call it.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ..errors import AdapterLoadError, ContractValueError
from ..records.contract import Stage

RESULT_FIELDS = ("gate", "passed", "score", "checks_passed", "checks_failed", "message")
STAGE_VALUES = frozenset(int(stage) for stage in Stage)

SCRIPTED_GATES = "scripted_gates"
METRICS = "metrics"
PRUNE = "prune"
EPOCH_CLOCK = "epoch_clock"
SIDE_EFFECTS = "side_effects"
MODULE = "module"
CHECKPOINT = "checkpoint"

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
    CHECKPOINT: (
        "checkpoint() and restore(): a checkpoint of a slot, restored into a fresh slot from make_slot(), after"
        " torch.save and torch.load(weights_only=True)"
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
        """[scripted_gates] Make `evaluate(target)` the slot's local gate decision; it returns a native
        result. Argument checks, early exits, the sync and the state machine are not replaced."""

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

    def checkpoint(self, slot: Any) -> Any:
        """[checkpoint] The slot's whole state (lifecycle and seed) as a training loop would save it. The
        harness always writes it with `torch.save` and reads it back with `torch.load(weights_only=True)`,
        so it may hold tensors, dicts, lists, str, int, float, bool and None only. For a slot that is an
        `nn.Module`, its `state_dict()`, the lifecycle in `get_extra_state()`:

            def checkpoint(self, slot):
                return slot.state_dict()"""

    def restore(self, slot: Any, checkpoint: Any) -> None:
        """[checkpoint] Restore `checkpoint` into `slot`, a fresh slot from `make_slot()` of the same slot
        id (its gate already installed), rebuilding the structure the weights need before they load:

            def restore(self, slot, checkpoint):
                slot.load_state_dict(checkpoint)  # set_extra_state() rebuilds the seed module first

        It may be rank 0's checkpoint restored on another rank, as a restarted DDP job does."""


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


def checked_stage(value: object, method: str) -> int | None:
    """`value` as a contract stage (or None for no seed), else `ContractValueError`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) not in STAGE_VALUES:
        raise ContractValueError(
            f"adapter.{method}() returned {_shown(value)}; the contract expects None or a stage value"
            f" {sorted(STAGE_VALUES)} (map stages beyond the contract in the adapter)"
        )
    return int(value)


def checked_result_fields(fields: object) -> dict:
    """`fields` as a normalised result dict, else `ContractValueError` naming the first bad field."""
    if not isinstance(fields, dict):
        raise ContractValueError(f"adapter.result_fields() returned {_shown(fields)}; the contract expects a dict")
    missing = [k for k in RESULT_FIELDS if k not in fields]
    if missing:
        raise ContractValueError(
            f"adapter.result_fields() lacks {', '.join(missing)}; the contract expects {RESULT_FIELDS}"
        )
    expectations = (
        ("gate", lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool), "an int gate level"),
        ("passed", lambda v: isinstance(v, bool) or type(v).__name__ == "bool_", "a bool"),
        ("score", lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), "a float"),
        ("checks_passed", _strings, "a list of str"),
        ("checks_failed", _strings, "a list of str"),
        ("message", lambda v: isinstance(v, str), "a str"),
    )
    for key, valid, expected in expectations:
        if not valid(fields[key]):
            raise ContractValueError(
                f"adapter.result_fields() returned {key}={_shown(fields[key])}; the contract expects {expected}"
            )
    return result_dict(fields)


def _strings(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _shown(value: object) -> str:
    text = repr(value)
    return f"{text[:60]}... ({type(value).__name__})" if len(text) > 60 else f"{text} ({type(value).__name__})"


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
