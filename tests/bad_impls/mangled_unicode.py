"""Text through a Latin-1 channel: every character outside it arrives as '?' on the other ranks."""

from tests.bad_impls.lossy import lossy_adapter


def _latin1(text: str) -> str:
    return text.encode("latin-1", errors="replace").decode("latin-1")


Adapter = lossy_adapter(
    "mangled_unicode",
    lambda fields: {
        "message": _latin1(fields["message"]),
        "checks_passed": [_latin1(c) for c in fields["checks_passed"]],
        "checks_failed": [_latin1(c) for c in fields["checks_failed"]],
    },
)
