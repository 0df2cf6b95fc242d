"""Bounded rank output: a rank that prints without end fills neither the disk nor the memory.

A rank's fds 1 and 2 (C++ output and child processes included) feed a pipe that a thread of the rank
drains into the rank's log file, keeping the first `HEAD_BYTES` as they come and only the last
`TAIL_BYTES` after them, with one line saying how much was dropped in between. The file is rewritten
past the head when output pauses (`IDLE_S`) or, during a flood, every `TAIL_WRITE_S`, so a hung rank's
log is current and a flooding rank costs memory copies, not disk writes. The log holds one scenario
at a time (`new_segment`); `flush` makes it complete before the rank reports the scenario's end.

A rank killed outright loses what was still in the pipe and, while flooding, at most the last
`TAIL_WRITE_S` of its tail. The parent reads at most `OUTPUT_HEAD` and `OUTPUT_TAIL` of a log into a
report (`read_output`), since results are kept for a whole certification.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import select
import sys
import termios
import threading
import time

HEAD_BYTES = 2 * 1024 * 1024
TAIL_BYTES = 2 * 1024 * 1024
OUTPUT_HEAD = 32 * 1024
OUTPUT_TAIL = 32 * 1024
CHUNK_BYTES = 1024 * 1024
PIPE_BYTES = 1024 * 1024  # the most an unprivileged process may ask for by default: fewer wake-ups in a flood
IDLE_S = 0.05
TAIL_WRITE_S = 0.5
FLUSH_TIMEOUT_S = 2.0

current: BoundedLog | None = None


def flush_current() -> None:
    """Complete this process's log before it ends abruptly (`os._exit`), if it has one."""
    if current is not None:
        current.flush()


def dropped_line(dropped: int, head: int, tail: int) -> bytes:
    return f"\n[... {dropped} bytes of output dropped: the log keeps the first {head} and last {tail} ...]\n".encode()


class BoundedLog:
    """This process's fds 1 and 2, kept to the first and last bytes of each segment in `path`."""

    def __init__(self, path: str, head_bytes: int = HEAD_BYTES, tail_bytes: int = TAIL_BYTES) -> None:
        self.head_bytes = head_bytes
        self.tail_bytes = tail_bytes
        self.file = open(path, "wb")  # noqa: SIM115 - written until the process ends
        self.lock = threading.Lock()
        self.head_written = 0
        self.tail = bytearray()
        self.dropped = 0
        self.tail_dirty = False
        self.tail_written_at = time.monotonic()
        self.read_fd = -1

    def start(self) -> BoundedLog:
        """Point fds 1 and 2 (and `sys.stdout`, `sys.stderr`) at the pipe and start draining it."""
        global current
        current = self
        self.read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError):
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        threading.Thread(target=self._drain, name="rank-log", daemon=True).start()
        return self

    def new_segment(self) -> None:
        """Start the log afresh: what follows belongs to the next scenario."""
        self.flush()
        with self.lock:
            self.head_written, self.dropped, self.tail_dirty = 0, 0, False
            self.tail.clear()
            self.file.seek(0)
            self.file.truncate()
            self.file.flush()

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Write everything printed so far to the file (bounded), waiting at most `timeout_s`."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        end = time.monotonic() + timeout_s
        while True:
            with self.lock:
                if _pending(self.read_fd) == 0 or time.monotonic() >= end:
                    self._write_tail()
                    return
            time.sleep(0.002)

    def _drain(self) -> None:
        while True:
            readable, _, _ = select.select([self.read_fd], [], [], IDLE_S)
            with self.lock:
                if readable:
                    data = os.read(self.read_fd, CHUNK_BYTES)
                    if not data:
                        self._write_tail()
                        return
                    self._take(data)
                if not readable or time.monotonic() - self.tail_written_at >= TAIL_WRITE_S:
                    self._write_tail()

    def _take(self, data: bytes) -> None:
        room = self.head_bytes - self.head_written
        if room > 0:
            self.file.seek(self.head_written)
            self.file.write(data[:room])
            self.file.flush()
            self.head_written += min(room, len(data))
            data = data[room:]
        if data:
            self.tail += data
            # Trimmed only past twice the bound: each byte is moved once, however long the flood.
            if len(self.tail) > 2 * self.tail_bytes:
                excess = len(self.tail) - self.tail_bytes
                del self.tail[:excess]
                self.dropped += excess
            self.tail_dirty = True

    def _write_tail(self) -> None:
        if not self.tail_dirty:
            return
        self.file.seek(self.head_written)
        self.file.truncate()
        dropped = self.dropped + max(0, len(self.tail) - self.tail_bytes)
        if dropped:
            self.file.write(dropped_line(dropped, self.head_bytes, self.tail_bytes))
        self.file.write(memoryview(self.tail)[-self.tail_bytes :])
        self.file.flush()
        self.tail_dirty = False
        self.tail_written_at = time.monotonic()


def _pending(fd: int) -> int:
    """Bytes waiting in the pipe `fd`."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def read_output(path: str, head: int = OUTPUT_HEAD, tail: int = OUTPUT_TAIL) -> str:
    """A log's first `head` and last `tail` bytes as text, with a line saying what was left out."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(0)
            if size <= head + tail:
                return f.read().decode(errors="replace")
            first = f.read(head)
            f.seek(size - tail)
            last = f.read()
    except OSError:
        return ""
    left_out = f"\n[... {size - head - tail} bytes of this rank's log left out of the report ...]\n"
    return first.decode(errors="replace") + left_out + last.decode(errors="replace")
