"""SIGTERM as Ctrl-C: the one handler that turns it into `KeyboardInterrupt`, so a run unwinds through the
same path (worlds closed, an `inconclusive` certificate) however it was asked to stop."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[[int, Any], None]


def raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts(handler: Handler = raise_interrupt) -> Iterator[None]:
    """Within the block SIGTERM runs `handler` (by default: raises `KeyboardInterrupt`); the previous
    handler is back after it, however the block ends."""
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
