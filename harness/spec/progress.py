"""Progress of a certification while it runs, so a long run is never silent for more than a few seconds.

On a terminal, one status line rewritten in place; otherwise a plain line every `PLAIN_EVERY_S`. The
clause table goes through the same printer, which clears the status line before each of its lines.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..records.report import ScenarioResult
from ..records.scenario import Scenario

TTY_EVERY_S = 0.5
PLAIN_EVERY_S = 2.0
CLEAR_LINE = "\r\x1b[K"


@dataclass
class RunProgress:
    """What a certification has done so far; written by the run, read by the printer's thread."""

    started: float = field(default_factory=time.monotonic)
    scenarios: int = 0
    ended_early: int = 0  # a rank raised, died or hung: deliberate faults too, so not a verdict
    world_size: int | None = None

    def line(self) -> str:
        size = f"world size {self.world_size}, " if self.world_size is not None else ""
        return (
            f"{size}{self.scenarios} scenarios run, {self.ended_early} ended early,"
            f" {time.monotonic() - self.started:.0f}s elapsed"
        )


class CountingExecutor:
    """An executor that counts the scenarios it runs into a `RunProgress`, around any other executor."""

    def __init__(self, executor: Any, progress: RunProgress) -> None:
        self.executor = executor
        self.progress = progress

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
        self.progress.world_size = scenario.world_size
        result = self.executor.run(impl, scenario)
        self.progress.scenarios += 1
        self.progress.ended_early += not result.completed
        return result


class ProgressPrinter:
    """Prints `progress` from a daemon thread until stopped; `print` writes a line of the run's own output."""

    def __init__(self, progress: RunProgress, stream: TextIO, output: TextIO) -> None:
        self.progress = progress
        self.stream = stream
        self.output = output
        self.tty = stream.isatty()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.shown = False
        self.thread = threading.Thread(target=self._loop, name="certify-progress", daemon=True)

    def __enter__(self) -> ProgressPrinter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(2 * PLAIN_EVERY_S)
        with self.lock:
            self._clear()

    def print(self, text: str) -> None:
        with self.lock:
            self._clear()
            print(text, file=self.output, flush=True)

    def _loop(self) -> None:
        while not self.stopped.wait(TTY_EVERY_S if self.tty else PLAIN_EVERY_S):
            with self.lock:
                if self.tty:
                    self.stream.write(f"{CLEAR_LINE}{self.progress.line()}")
                    self.shown = True
                else:
                    self.stream.write(f"progress: {self.progress.line()}\n")
                self.stream.flush()

    def _clear(self) -> None:
        if self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.shown = False
