"""The process tree below a pid, read from /proc (Linux): for measuring a run and finding its leftovers."""

from __future__ import annotations

import os


def descendants(pid: int) -> list[int]:
    """Every process below `pid` in the process tree, children before grandchildren."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
            except OSError:
                continue
            children.setdefault(int(text[text.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop(0)
        found.append(current)
        todo += children.get(current, [])
    return found
