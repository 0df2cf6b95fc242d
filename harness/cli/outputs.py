"""Output paths checked before a run starts, so a bad one costs one line, not a finished run's results.

Each check returns nothing and raises `OutputPathError` with one line naming the path and what is wrong.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from ..errors import OutputPathError


def check_folder(path: str, what: str) -> None:
    """`path` is, or can be created as, a writable folder."""
    _check_named(path, what)
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputPathError(f"{what} {path!r} exists and is not a folder")
    _check_writable(_nearest_existing(path), path, what)


def check_file(path: str, what: str) -> None:
    """`path` names a file that can be written (created or replaced) in an existing, writable folder."""
    _check_named(path, what)
    if os.path.isdir(path):
        raise OutputPathError(f"{what} {path!r} is a folder; name a file")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputPathError(f"{what} {path!r}: its folder {parent!r} does not exist")
    _check_writable(parent, path, what)


def _check_named(path: str, what: str) -> None:
    if not path or not path.strip():
        raise OutputPathError(f"{what} is empty; name a path")
    if "\0" in path:
        raise OutputPathError(f"{what} {path!r} contains a NUL character")


def _nearest_existing(path: str) -> str:
    current = os.path.abspath(path)
    while not os.path.exists(current):
        current = os.path.dirname(current)
    return current


def _check_writable(existing: str, path: str, what: str) -> None:
    if not os.path.isdir(existing):
        raise OutputPathError(f"{what} {path!r}: {existing!r} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".lifecycle-probe-", dir=existing)
    except OSError as exc:
        raise OutputPathError(f"{what} {path!r}: cannot write in {existing!r} ({exc.strerror})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
