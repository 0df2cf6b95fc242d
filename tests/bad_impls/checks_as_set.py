"""Check lists carried as sets: duplicates dropped and the order sorted on the other ranks."""

from tests.bad_impls.lossy import lossy_adapter

Adapter = lossy_adapter(
    "checks_as_set",
    lambda fields: {k: sorted(set(fields[k])) for k in ("checks_passed", "checks_failed")},
)
