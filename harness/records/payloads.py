"""Gate-result payloads: the named ones a scenario picks (`NAMED`, the one list of payload names), and
generated ones, every field drawn from its whole space by a seeded generator.

A generated payload is named `bytes:<seed>:<n>` (a message of exactly n UTF-8 bytes) or
`chars:<seed>:<n>` (exactly n code points), so a saved scenario stays small and replays exactly. The
message draws any Unicode scalar value (surrogates excepted: no UTF-8 encoder carries them), with
control characters, whitespace and combining marks favoured at both ends; the check lists have any
length, order and duplication; the score is any float64 bit pattern (NaNs with payloads, subnormals,
infinities, both zeros). Every rank and call draws its own values, and one check names the rank and
call, so a returned result is traced to the rank and call that decided it.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

UNITS = ("bytes", "chars")
MAX_LENGTH = 64 * 1024 + 1024
CONTROL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
WHITESPACE = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2028, 0x2029, 0x3000, 0xFEFF]
COMBINING = [*range(0x0300, 0x0370), *range(0x20D0, 0x20F1), 0xFE20, 0x1AB0]
SPECIAL_BITS = (
    0x0000000000000000,  # +0
    0x8000000000000000,  # -0
    0x0000000000000001,  # smallest subnormal
    0x800FFFFFFFFFFFFF,  # largest negative subnormal
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x7FF8000000000000,  # quiet NaN
    0x7FF0000000000001,  # signalling NaN with a payload
    0xFFFFFFFFFFFFFFFF,  # negative NaN, all payload bits set
)


def parse(name: str) -> tuple[str, int, int] | None:
    """(unit, seed, length) of a generated payload name, None for any other name."""
    parts = name.split(":")
    if len(parts) != 3 or parts[0] not in UNITS or not all(p.isdigit() for p in parts[1:]):
        return None
    unit, seed, length = parts[0], int(parts[1]), int(parts[2])
    return (unit, seed, length) if length <= MAX_LENGTH else None


def name(unit: str, seed: int, length: int) -> str:
    return f"{unit}:{seed}:{length}"


def _code_point(rng: random.Random, edge: bool) -> str:
    """One code point: at an end of the text, mostly a control, whitespace or combining one."""
    pick = rng.random()
    if edge and pick < 0.75:
        return chr(rng.choice((CONTROL, WHITESPACE, COMBINING)[int(pick * 4)]))
    if pick < 0.4:
        return chr(rng.randrange(0x20, 0x7F))
    if pick < 0.55:
        return chr(rng.choice(SPECIAL))
    while True:
        value = rng.randrange(0x110000)
        if not 0xD800 <= value <= 0xDFFF:
            return chr(value)


EDGE_UNITS = 4  # the last units of a text, like its first code point, favour control, whitespace and combining ones
BULK_FROM = 256  # a middle this long is drawn at once: below it, drawing the generator costs more than the loop
SPECIAL = CONTROL + WHITESPACE + COMBINING
SURROGATES = 0xE000 - 0xD800


def text(rng: random.Random, unit: str, length: int) -> str:
    """A string of exactly `length` code points, or of exactly `length` UTF-8 bytes.

    A long middle is drawn at once (`_middle`): a message of 64 KiB drawn code point by code point
    cost rank 0 more than its sync round."""
    out: list[str] = []
    left = length
    while left > 0:
        if out and left - EDGE_UNITS >= BULK_FROM:
            middle = _middle(rng, unit, left - EDGE_UNITS)
            out.append(middle)
            left -= len(middle) if unit == "chars" else len(middle.encode())
            continue
        char = _code_point(rng, edge=not out or left <= EDGE_UNITS)
        size = 1 if unit == "chars" else len(char.encode())
        if size > left:
            char, size = chr(rng.randrange(0x20, 0x7F)) if rng.random() < 0.5 else chr(rng.choice(CONTROL[:32])), 1
        out.append(char)
        left -= size
    return "".join(out)


def _middle(rng: random.Random, unit: str, room: int) -> str:
    """Code points away from the ends, as `_code_point` draws them (printable ASCII, a control, whitespace
    or combining one, any scalar value but a surrogate), as many as fit in `room` units (at least one)."""
    import numpy as np

    draw = np.random.default_rng(rng.getrandbits(64))
    pick = draw.random(room)
    anywhere = draw.integers(0, 0x110000 - SURROGATES, room)
    anywhere += (anywhere >= 0xD800) * SURROGATES
    special = np.array(SPECIAL, dtype=np.int64)[draw.integers(0, len(SPECIAL), room)]
    points = np.where(pick < 0.4, draw.integers(0x20, 0x7F, room), np.where(pick < 0.55, special, anywhere))
    if unit == "bytes":
        sizes = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
        points = points[: max(1, int(np.searchsorted(np.cumsum(sizes), room, side="right")))]
    return points.astype("<u4").tobytes().decode("utf-32-le")


def any_float(rng: random.Random) -> float:
    bits = rng.choice(SPECIAL_BITS) if rng.random() < 0.3 else rng.getrandbits(64)
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _checks(rng: random.Random) -> list[str]:
    """Any length (mostly short), any order, duplicates likely: drawn from a small pool of short texts."""
    pool = [text(rng, "chars", rng.randrange(0, 12)) for _ in range(rng.randrange(1, 6))]
    return [rng.choice(pool) for _ in range(rng.choice((0, 1, 2, 3, rng.randrange(0, 64))))]


def generated(fields: dict, rank: int, call: int, unit: str, seed: int, length: int) -> dict:
    """`fields` with message, checks and score drawn for this rank and call from `seed`."""
    rng = random.Random(f"{seed}:{rank}:{call}")
    checks_failed = _checks(rng)
    checks_failed.insert(rng.randrange(len(checks_failed) + 1), f"r{rank}c{call}")
    return {
        **fields,
        "message": text(rng, unit, length),
        "checks_passed": _checks(rng),
        "checks_failed": checks_failed,
        "score": any_float(rng),
    }


AROUND_POWERS = frozenset((1 << k) + d for k in range(1, 17) for d in (-2, -1, 0, 1, 2))
DENSE_UP_TO = 1100


def lengths() -> list[int]:
    """Every length from 0 to beyond 1 KiB, and two either side of every power of two up to 64 KiB."""
    return sorted(set(range(0, DENSE_UP_TO)) | AROUND_POWERS)


def sweep() -> list[tuple[str, int]]:
    """(unit, length) of every generated message of a run: lengths around a power of two in both units
    (where framings have their boundaries), the others in one unit, alternating."""
    out: list[tuple[str, int]] = []
    for index, length in enumerate(lengths()):
        units = UNITS if length in AROUND_POWERS else (UNITS[index % 2],)
        out += [(unit, length) for unit in units]
    return out


def simpler(name_: str) -> str | None:
    """The same payload from seed 0 (the shrinker's simpler candidate), None when there is none."""
    parsed = parse(name_)
    if parsed is None or parsed[1] == 0:
        return None
    return name(parsed[0], 0, parsed[2])


LONG_MESSAGE_CHARS = 64 * 1024 + 100
MANY_CHECKS = 300
SPECIAL_SCORES = (0.0, -0.0, 1.0, 5e-324, 1e-300, 1e308, float("inf"), float("nan"))
SMALLEST_SUBNORMAL = 5e-324
UNICODE_TEXT = "é ü ß 漢字 🚀 שלום\nsecond line\ttab\r\nnul:\x00 end"


def tag(rank: int, call: int) -> str:
    """The rank and call a result's check names, so a returned result is traced to where it was decided."""
    return f"r{rank}c{call}"


def _empty(fields: dict, rank: int, call: int) -> dict:
    """No message, no checks: only the score, a distinct subnormal, tells the result apart."""
    unique = SMALLEST_SUBNORMAL * (1 + rank + 64 * call)
    return {**fields, "message": "", "checks_passed": [], "checks_failed": [], "score": unique}


def _long(fields: dict, rank: int, call: int) -> dict:
    head = fields["message"] + " "
    body = "".join(chr(33 + (i * 7 + rank) % 94) for i in range(LONG_MESSAGE_CHARS - len(head)))
    return {**fields, "message": head + body}


def _unicode(fields: dict, rank: int, call: int) -> dict:
    label = tag(rank, call)
    return {
        **fields,
        "message": f"{fields['message']} {UNICODE_TEXT}",
        "checks_passed": [f"{label}_ok_✓", *fields["checks_passed"]],
        "checks_failed": [*fields["checks_failed"], f"{label}_écart_0.42%"],
    }


def _unicode_long(fields: dict, rank: int, call: int) -> dict:
    repeat = LONG_MESSAGE_CHARS // len(UNICODE_TEXT) + 1
    return {**fields, "message": f"{fields['message']} {UNICODE_TEXT * repeat}"}


def _many_checks(fields: dict, rank: int, call: int) -> dict:
    """Hundreds of checks, duplicated and out of order: a set or a sort changes them."""
    label = tag(rank, call)
    many = [f"{label}_k{(i * 37) % 97:02d}" for i in range(MANY_CHECKS)]
    return {**fields, "checks_passed": many, "checks_failed": list(reversed(many[: MANY_CHECKS // 3]))}


def _score(fields: dict, rank: int, call: int) -> dict:
    return {**fields, "score": SPECIAL_SCORES[(rank + call) % len(SPECIAL_SCORES)]}


NAMED: dict[str, Callable[[dict, int, int], dict]] = {
    # a scenario names one of these payloads; each turns the default fields into the result it stands for
    "plain": lambda fields, rank, call: fields,
    "empty": _empty,
    "long": _long,
    "unicode": _unicode,
    "unicode_long": _unicode_long,
    "many_checks": _many_checks,
    "score": _score,
}
