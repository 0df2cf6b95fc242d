"""Stalls: a scenario in which no unfinished rank makes progress, and the line a stalled rank sits on.

Progress is a call ending, or a collective entered or left, on any unfinished rank. A scenario stalls
when none happens for the stall window: `STALL_FACTOR` times the longest quiet gap seen in healthy
runs of the same implementation (in earlier scenarios of the pool, and earlier in this one), never
less than `STALL_FLOOR_S`, never more than the scenario deadline. Until a whole scenario of the
implementation has completed, the window is at least `UNPROVEN_WINDOW_S`: nothing yet says how slow
its setup or its gates are, and calling a correct implementation hung is worse than waiting.
Once an implementation has stalled (a full window with no progress, so it is not certified whatever
follows), its floor drops to `STALLED_FLOOR_S`, the unproven window included (an implementation that
never completes a scenario would otherwise pay it in every rebuilt world): its later stalls cost a
fraction of a second while the factor still covers every quiet gap its healthy scenarios showed.
`--stall-timeout` replaces the rule with a fixed window.

The rank blamed for a stall is the one outside any collective (a rank waiting in one waits for a peer);
when every one waits in a collective, the one that entered the fewest. Its stack (faulthandler's
dump) is read for the innermost frame of its main thread outside the harness (with the process and
pickling libraries it runs on), torch and the standard library's threading machinery: the
implementation's own line.
"""

from __future__ import annotations

import importlib.util
import linecache
import os
import re
import sysconfig
from dataclasses import dataclass, field

from .locations import PACKAGE_DIR

STALL_FACTOR = 10.0
STALL_FLOOR_S = 1.0
STALLED_FLOOR_S = 0.25
UNPROVEN_WINDOW_S = 5.0
POLL_S = 0.05

_HARNESS_DIR = PACKAGE_DIR + os.sep
_LIBRARIES = ("torch", "multiprocess", "dill")  # located, not imported: `import harness` stays light
_STDLIB_DIR = sysconfig.get_paths()["stdlib"] + os.sep
_MACHINERY = tuple(os.path.join(_STDLIB_DIR, name) for name in ("threading.py", "multiprocessing", "concurrent"))
_DUMP_THREAD = re.compile(r"^(Current thread|Thread) (0x[0-9a-f]+)")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+),? in (?P<function>\S+)')
_CALLEE = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


@dataclass(frozen=True)
class Stall:
    """Why a scenario was ended early: `rank` made no progress, nor did any unfinished rank, for `window_s`."""

    rank: int
    window_s: float
    in_collective: bool = False


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str

    def __str__(self) -> str:
        text = f"{_shown_path(self.file)}:{self.line} in {self.function}"
        callee = _callee(self.file, self.line)
        return f"{text} ({callee})" if callee else text


@dataclass
class StallRule:
    """The stall window per implementation, from the quiet gaps its healthy scenarios showed."""

    fixed_s: float | None = None
    slowest_gap_s: dict[str, float] = field(default_factory=dict)
    stalled: set[str] = field(default_factory=set)

    def window(self, impl: str, deadline_s: float, gap_in_scenario_s: float = 0.0) -> float:
        if self.fixed_s is not None:
            return min(self.fixed_s, deadline_s)
        proven = self.slowest_gap_s.get(impl)
        gap = max(proven or 0.0, gap_in_scenario_s)
        window = max(STALLED_FLOOR_S if impl in self.stalled else STALL_FLOOR_S, STALL_FACTOR * gap)
        if proven is None and impl not in self.stalled:
            window = max(window, UNPROVEN_WINDOW_S)
        return min(window, deadline_s)

    def observe(self, impl: str, gap_s: float) -> None:
        """Record the longest quiet gap of a scenario that completed on every rank."""
        self.slowest_gap_s[impl] = max(self.slowest_gap_s.get(impl, 0.0), gap_s)

    def record_stall(self, impl: str, window_s: float) -> None:
        """An implementation that stalled for a full window has shown that it can stop for good."""
        if window_s >= STALL_FLOOR_S:
            self.stalled.add(impl)


class ProgressWatch:
    """The quiet gaps of one running scenario, from snapshots of every rank's progress."""

    def __init__(self, now: float) -> None:
        self.last_change = now
        self.longest_gap_s = 0.0
        self.state: tuple = ()

    def update(self, state: tuple, now: float) -> float:
        """Take a snapshot; returns the seconds since the last progress."""
        if state != self.state:
            self.longest_gap_s = max(self.longest_gap_s, now - self.last_change)
            self.state, self.last_change = state, now
        return now - self.last_change


def blamed_rank(pending: list[int], in_collective: dict[int, bool], entered: dict[int, int]) -> int:
    """The pending rank a stall is blamed on: outside any collective first, then the fewest entered."""
    return min(pending, key=lambda i: (in_collective[i], entered[i], i))


def main_thread_frames(stack: str) -> list[Frame]:
    """The frames (innermost first) of the thread in a faulthandler dump that runs `rank_main`."""
    return _main_thread(_threads(stack))


def _main_thread(threads: list[tuple[str, list[Frame]]]) -> list[Frame]:
    for _, frames in threads:
        if any(f.function == "rank_main" for f in frames):
            return frames
    return next((frames for header, frames in threads if header.startswith("Current")), [])


def own_frame(frames: list[Frame]) -> Frame | None:
    """The innermost frame outside the harness, torch and the standard library's thread machinery,
    above the rank's entry point (what calls `rank_main` is the process's own start-up)."""
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


def ordered_stack(stack: str) -> str:
    """A faulthandler dump with the main thread first, other threads of the implementation after it,
    and the harness's own threads (whose frames are all harness or thread machinery) left out."""
    threads = _threads(stack)
    if not threads:
        return stack
    main = _main_thread(threads)
    blocks = sorted((t for t in threads if t[1] is main or own_frame(t[1]) is not None), key=lambda t: t[1] is not main)
    left_out = len(threads) - len(blocks)
    lines = []
    for header, frames in blocks:
        lines.append(header)
        lines += [f'  File "{f.file}", line {f.line} in {f.function}' for f in frames]
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
    path = os.path.abspath(path) if os.path.isabs(path) else path
    return path.startswith((_HARNESS_DIR, *_LIBRARY_DIRS, *_MACHINERY)) or path.startswith(("<frozen", "<string>"))


def _shown_path(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _callee(path: str, line: int) -> str | None:
    """The function the source line calls first (`time.sleep`), when the source is readable."""
    match = _CALLEE.search(linecache.getline(path, line))
    return match[1] if match else None
