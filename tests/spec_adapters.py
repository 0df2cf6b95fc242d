"""Adapters the suite's own tests certify: variations of the reference in what they declare."""

from reference_impl.adapter import Adapter


class NoPruneAdapter(Adapter):
    """Declares neither prune nor the epoch clock: the clauses needing them are not claimed."""

    capabilities = frozenset({"scripted_gates", "metrics", "side_effects"})
