"""A fixed 4 KiB frame with no continuation: a long message arrives cut short on every other rank."""

from tests.bad_impls.lossy import lossy_adapter

FRAME_BYTES = 4096

Adapter = lossy_adapter(
    "truncated_message",
    lambda fields: {"message": fields["message"].encode()[:FRAME_BYTES].decode(errors="ignore")},
)
