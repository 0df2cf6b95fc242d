"""The implementation under certification as the parent knows it: what its adapter declares, read
without running it, and the folder it was imported from (what a replay elsewhere needs on its path)."""

from __future__ import annotations

import os
import site
import sys
from dataclasses import dataclass

from ..errors import AdapterLoadError
from ..locations import HARNESS
from ..rankside.adapter import check_adapter, load_adapter_factory
from ..records.ddp_configs import UNDECLARED, declared


@dataclass
class Implementation:
    spec: str
    name: str
    version: str
    capabilities: frozenset[str]
    pythonpath: tuple[str, ...] = ()
    ddp_configurations: tuple[str, ...] = UNDECLARED


def describe_implementation(spec: str) -> Implementation:
    """Name, version, capabilities and import root of the adapter `spec` names, read in this process.

    An adapter class is not instantiated here: its constructor runs on the ranks, where an exception
    becomes an `error` of the clauses concerned, with its traceback in the evidence."""
    factory = load_adapter_factory(spec)
    adapter: object = factory
    if not (isinstance(factory, type) and all(hasattr(factory, k) for k in ("name", "version", "capabilities"))):
        try:
            adapter = factory()
        except Exception as exc:
            raise AdapterLoadError(f"the adapter factory {spec!r} raised: {type(exc).__name__}: {exc}") from exc
    check_adapter(adapter, spec)
    roots = (*import_root(HARNESS), *import_root(spec.partition(":")[0]))  # the suite's own first: it runs the replay
    return Implementation(
        spec,
        str(adapter.name),
        str(adapter.version),
        frozenset(adapter.capabilities),
        tuple(dict.fromkeys(roots)),
        declared(adapter),
    )


def import_root(module: str) -> tuple[str, ...]:
    """The folder `module`'s top-level package was imported from, when an installed package's folder it
    is not: what `PYTHONPATH` must hold for a replay started anywhere else (for the adapter, and for this
    suite itself when it runs from a checkout or a path the user gave)."""
    top = sys.modules.get(module.split(".")[0])
    location = getattr(top, "__file__", None) or next(iter(getattr(top, "__path__", []) or []), None)
    if location is None:
        return ()
    location = os.path.abspath(location)
    root = os.path.dirname(os.path.dirname(location) if location.endswith("__init__.py") else location)
    installed = [*site.getsitepackages(), site.getusersitepackages(), sys.base_prefix, sys.prefix]
    if any(root == p or root.startswith(os.path.join(p, "")) for p in installed if p):
        return ()
    return (root,)
