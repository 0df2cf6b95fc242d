"""Shipped in `reference_impl.defects`, which the demo and the benchmark run; see its docstring."""

from reference_impl.defects.flooding import Adapter

__all__ = ["Adapter"]
