"""Counting and fingerprinting a rank's collectives from the outside, whatever the implementation calls.

Every public collective of `torch.distributed` is wrapped (in both namespaces the implementation
may call it through) before the implementation is imported. The wrapper counts outermost calls per
op (`broadcast_object_list` calling `broadcast` counts once), records each one's fingerprint in
order (`harness.records.fingerprints`), and publishes to shared memory whether the rank is inside a
collective and how many it has entered, which the parent reads to recognise a deadlock the moment
it is certain. The time spent fingerprinting is measured, so the call's own timing can leave it out.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from ..records.fingerprints import fingerprint, with_payload
from ..records.messages import Collective

NAMES = (
    "broadcast",
    "broadcast_object_list",
    "all_reduce",
    "all_gather",
    "all_gather_object",
    "all_gather_into_tensor",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "gather",
    "gather_object",
    "scatter",
    "scatter_object_list",
    "barrier",
    "monitored_barrier",
    "all_to_all",
    "all_to_all_single",
    "send",
    "recv",
    "isend",
    "irecv",
    "batch_isend_irecv",
)


class CollectiveMonitor:
    """Per-call counts and ordered fingerprints of collectives, and the rank's "in a collective" flag
    in shared memory.

    `shared` holds two ints per rank: [2*rank] is 1 while inside a collective, [2*rank+1] counts the
    collectives entered, so the parent can tell a rank blocked in one from a rank moving through many.
    """

    def __init__(self, shared: Any, rank: int) -> None:
        self.shared = shared
        self.rank = rank
        self.depth = 0
        self.counts: Counter[str] = Counter()
        self.entered: list[Collective] = []
        self.overhead_s = 0.0
        self.totals: Counter[str] = Counter()
        self.failed = False
        self.failed_in_call = False

    def install(self) -> None:
        import torch.distributed as dist
        import torch.distributed.distributed_c10d as c10d

        for name in NAMES:
            original = getattr(c10d, name, None)
            if original is None or getattr(original, "__wrapped_by_harness__", False):
                continue
            wrapped = self._wrap(name, original)
            setattr(c10d, name, wrapped)
            if hasattr(dist, name):
                setattr(dist, name, wrapped)

    def take_counts(self) -> dict[str, int]:
        """The counts since the last call, added to the running totals."""
        counts = dict(self.counts)
        self.totals.update(self.counts)
        self.counts.clear()
        self.failed_in_call = False
        return counts

    def take_fingerprints(self) -> tuple[list[Collective], float]:
        """The fingerprints since the last call, in order, and the seconds spent taking them."""
        entered, overhead = self.entered, self.overhead_s
        self.entered, self.overhead_s = [], 0.0
        return entered, overhead

    @contextlib.contextmanager
    def harness_collectives(self) -> Iterator[None]:
        """Collectives the harness makes itself (the model host's DDP and its parameter-set exchange).

        They stay out of the per-call counts, which are the implementation's alone (clauses C5 and S4
        read them), but the whole block is published as one collective entered: a rank stuck in it
        is still seen by the deadlock detector, and a failure in it still marks the process group
        as not reusable. DDP's own collectives run in C++ and would not be seen otherwise.
        """
        self.depth = 1
        self.shared[2 * self.rank] = 1
        self.shared[2 * self.rank + 1] += 1
        try:
            yield
        except BaseException:
            self.failed = True
            raise
        finally:
            self.depth = 0
            self.shared[2 * self.rank] = 0

    def step_done(self) -> None:
        """A step of the harness's own block finished (DDP built, a training step taken): published as
        one more collective entered, so a model step that is slow under load reads as progress, not a
        stall. Every rank takes the same steps, so the counts the deadlock detector compares stay aligned."""
        self.shared[2 * self.rank + 1] += 1

    def _wrap(self, name: str, original: Callable) -> Callable:
        try:
            names: tuple[str, ...] = tuple(inspect.signature(original).parameters)
        except (TypeError, ValueError):
            names = ()

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return original(*args, **kwargs)
            self.counts[name] += 1
            started = time.perf_counter()
            arguments = _arguments(names, args, kwargs)
            entry = fingerprint(name, len(self.entered), arguments)
            self.entered.append(entry)
            self.overhead_s += time.perf_counter() - started
            self.depth = 1
            self.shared[2 * self.rank] = 1
            self.shared[2 * self.rank + 1] += 1
            try:
                returned = original(*args, **kwargs)
            except BaseException:
                self.failed = self.failed_in_call = True
                raise
            finally:
                self.depth = 0
                self.shared[2 * self.rank] = 0
            started = time.perf_counter()
            entry["returned"] = True
            with_payload(entry, arguments)
            self.overhead_s += time.perf_counter() - started
            return returned

        wrapper.__wrapped_by_harness__ = True  # type: ignore[attr-defined]
        return wrapper


def _arguments(names: tuple[str, ...], args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by parameter name (positional ones beyond the known names numbered)."""
    arguments = {name: value for name, value in zip(names, args, strict=False)}
    arguments.update((str(i), a) for i, a in enumerate(args[len(names) :], start=len(names)))
    arguments.update(kwargs)
    return arguments
