"""The reference, declaring neither `prune` nor `epoch_clock`: clauses needing them are not claimed,
and the corpus leaves those calls out."""

from reference_impl.adapter import Adapter as Reference


class Adapter(Reference):
    name = "no_prune"
    capabilities = frozenset({"scripted_gates", "metrics", "side_effects"})
