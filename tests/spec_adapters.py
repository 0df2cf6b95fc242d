"""Adapters the suite's own tests certify: variations of the reference in what they declare."""

from reference_impl.adapter import Adapter
from reference_impl.slot import SeedSlot


class NoPruneAdapter(Adapter):
    """Declares neither prune nor the epoch clock: the clauses needing them are not claimed."""

    capabilities = frozenset({"scripted_gates", "metrics", "side_effects"})


class ExplodingAdapter(Adapter):
    """Its constructor raises on every rank: every clause is an `error`, with the traceback as evidence."""

    def __init__(self) -> None:
        raise RuntimeError("boom: the adapter cannot be built")


class AdvanceRaisesAdapter(Adapter):
    """`advance` raises: the clauses that need a returned result fail, with the traceback as evidence."""

    def advance(self, slot, target):
        raise NotImplementedError("advance is not wired up yet")


def not_an_adapter() -> object:
    """A factory returning something that is not an adapter."""
    return object()


class RemovedStageAdapter(Adapter):
    """Reports BLENDING as 5, the value of a stage older upstream versions had and the contract removed."""

    def stage(self, slot):
        stage = super().stage(slot)
        return 5 if stage == 4 else stage


class StringGateAdapter(Adapter):
    """Reports the gate level as a string where the contract wants an int."""

    def result_fields(self, result):
        return {**super().result_fields(result), "gate": f"G{int(result.gate)}"}


_built = 0  # adapters built in this process: the harness builds one per scenario on every rank


class _LocalSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        return result


class LocalAfterThreeScenariosAdapter(Adapter):
    """Correct in the first three scenarios of its rank process, then its slots apply their own gate decision:
    a defect kept per process, which a world of its own never shows."""

    AFTER = 3

    def __init__(self) -> None:
        global _built
        super().__init__()
        _built += 1
        self.local = _built > self.AFTER

    def make_slot(self, slot_id):
        return _LocalSlot(slot_id) if self.local else super().make_slot(slot_id)
