"""An adapter module whose import, on a rank, takes `$LIFECYCLE_TEST_SLOW_S` seconds."""

from reference_impl.adapter import Adapter  # noqa: F401 - the adapter this module exports
from tests.slow_adapters import pause_on_a_rank

pause_on_a_rank()
