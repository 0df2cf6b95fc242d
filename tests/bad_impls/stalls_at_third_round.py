"""Shipped in `reference_impl.defects`, which the demo and the benchmark run; see its docstring."""

from reference_impl.defects.stalls_at_third_round import Adapter

__all__ = ["Adapter"]
