"""A slow step is reported while it happens, not after: "rank 0 is still importing `mypkg.adapter`
after 10 s". An implementation's import or constructor may take minutes (a large model, a network
mount); without a word the run looks hung.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

REPORT_AFTER_S = 10.0
REPEAT_EVERY_S = 30.0


@contextlib.contextmanager
def reported_if_slow(doing: str, fd: int = 2, after_s: float = REPORT_AFTER_S) -> Iterator[None]:
    """Write "`doing` after N s" to `fd` once the block has run `after_s`, then every `REPEAT_EVERY_S`."""
    done = threading.Event()

    def watch() -> None:
        wait, elapsed = after_s, after_s
        while not done.wait(wait):
            with contextlib.suppress(OSError):
                os.write(fd, f"{doing} after {elapsed:.0f} s\n".encode())
            wait = REPEAT_EVERY_S
            elapsed += wait

    threading.Thread(target=watch, name="slow-start", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def module_of(spec: str) -> str:
    """The module part of an implementation's `MODULE:ATTR`."""
    return spec.partition(":")[0]
