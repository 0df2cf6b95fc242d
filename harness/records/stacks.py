"""Where a rank sits: the innermost frame of its main thread outside the harness, read from faulthandler's
stack dump or from a traceback, and the record of a stall that names it.

A stack is read for the innermost frame of its main thread outside the harness (with the process and
pickling libraries it runs on), torch and the standard library: the implementation's own line.
Records and their rendering read it, so it depends on nothing but the package's location.
"""

from __future__ import annotations

import importlib.util
import linecache
import os
import re
import sysconfig
from dataclasses import dataclass

from ..locations import PACKAGE_DIR

_HARNESS_DIR = PACKAGE_DIR + os.sep
_LIBRARIES = ("torch", "multiprocess", "dill")  # located, not imported: `import harness` stays light
_PATHS = sysconfig.get_paths()
_STDLIB_DIRS = tuple({_PATHS["stdlib"] + os.sep, _PATHS["platstdlib"] + os.sep})
_SITE_DIRS = tuple({_PATHS["purelib"] + os.sep, _PATHS["platlib"] + os.sep})  # in the stdlib folder on most installs
_DUMP_THREAD = re.compile(r"^(Current thread|Thread) (0x[0-9a-f]+)")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+),? in (?P<function>\S+)')
_CALLEE = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


@dataclass(frozen=True)
class Stall:
    """Why a scenario was ended early: `rank` made no progress, nor did any unfinished rank, for `window_s`."""

    rank: int
    window_s: float
    in_collective: bool = False
    recognised: bool = False  # ended before a full window: `rank` sat where an earlier full-window stall left it
    basis: str = ""  # where the window's length comes from (`StallRule.basis`)


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str

    def __str__(self) -> str:
        text = f"{_shown_path(self.file)}:{self.line} in {self.function}"
        callee = _callee(self.file, self.line)
        return f"{text} ({callee})" if callee else text


def main_thread_frames(stack: str) -> list[Frame]:
    """The frames (innermost first) of the thread in a faulthandler dump that runs `rank_main`, down to it."""
    return _down_to_entry(_main_thread(_threads(stack)))[0]


def _down_to_entry(frames: list[Frame]) -> tuple[list[Frame], bool]:
    """`frames` down to the rank's entry point `rank_main`, and whether the process's start-up below it
    (the same frames in every rank of every run) was cut."""
    entry = next((i for i, f in enumerate(frames) if f.function == "rank_main" and _machinery(f.file)), None)
    if entry is None or entry == len(frames) - 1:
        return frames, False
    return frames[: entry + 1], True


def _main_thread(threads: list[tuple[str, list[Frame]]]) -> list[Frame]:
    for _, frames in threads:
        if any(f.function == "rank_main" for f in frames):
            return frames
    return next((frames for header, frames in threads if header.startswith("Current")), [])


def own_frame(frames: list[Frame]) -> Frame | None:
    """The innermost frame outside the harness, torch and the standard library, above the rank's entry
    point (what calls `rank_main` is the process's own start-up)."""
    for frame in frames:
        if frame.function == "rank_main":
            return None
        if not _machinery(frame.file):
            return frame
    return None


def frame_in_stack(stack: str) -> Frame | None:
    return own_frame(main_thread_frames(stack))


def frame_in_traceback(traceback_text: str) -> Frame | None:
    """The innermost frame of a formatted traceback outside the harness and torch."""
    frames = [_frame(m) for m in map(_FRAME.match, traceback_text.splitlines()) if m]
    return own_frame(list(reversed(frames)))


START_UP = "  (the rank process's start-up below rank_main left out)"


def ordered_stack(stack: str) -> str:
    """A faulthandler dump with the main thread first, other threads of the implementation after it,
    and the harness's own threads (whose frames are all harness or standard library) left out; so is
    the start-up below `rank_main`."""
    threads = _threads(stack)
    if not threads:
        return stack
    main = _main_thread(threads)
    blocks = sorted((t for t in threads if t[1] is main or own_frame(t[1]) is not None), key=lambda t: t[1] is not main)
    left_out = len(threads) - len(blocks)
    lines = []
    for header, frames in blocks:
        shown, cut = _down_to_entry(frames)
        lines.append(header)
        lines += [f'  File "{f.file}", line {f.line} in {f.function}' for f in shown]
        lines += [START_UP] if cut else []
        lines.append("")
    if left_out:
        lines.append(f"({left_out} harness thread(s) left out)")
    return "\n".join(lines).rstrip() + "\n"


def _threads(stack: str) -> list[tuple[str, list[Frame]]]:
    threads: list[tuple[str, list[Frame]]] = []
    for line in stack.splitlines():
        if _DUMP_THREAD.match(line):
            threads.append((line.rstrip(), []))
        elif threads and (match := _FRAME.match(line)):
            threads[-1][1].append(_frame(match))
    return threads


def _frame(match: re.Match) -> Frame:
    return Frame(match["file"], int(match["line"]), match["function"])


def _library_dirs() -> tuple[str, ...]:
    dirs = []
    for name in _LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs += [os.path.abspath(d) + os.sep for d in spec.submodule_search_locations]
    return tuple(dirs)


_LIBRARY_DIRS = _library_dirs()


def _machinery(path: str) -> bool:
    """The harness, the libraries it runs on, torch, or the standard library (whose `logging`, `queue` or
    `socket` a rank may sit in: the line that called it is the implementation's)."""
    path = os.path.abspath(path) if os.path.isabs(path) else path
    stdlib = path.startswith(_STDLIB_DIRS) and not path.startswith(_SITE_DIRS)
    return stdlib or path.startswith((_HARNESS_DIR, *_LIBRARY_DIRS)) or path.startswith(("<frozen", "<string>"))


def _shown_path(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _callee(path: str, line: int) -> str | None:
    """The function the source line calls first (`time.sleep`), when the source is readable."""
    match = _CALLEE.search(linecache.getline(path, line))
    return match[1] if match else None
