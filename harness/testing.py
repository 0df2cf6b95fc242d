"""pytest integration of the harness: a session-wide pool of warm worlds and a world-size marker.

    @pytest.mark.world_sizes(2, 3)
    def test_ranks_agree(run_scenario, world_size):
        ops = [Op("germinate", "a"), Op("advance", "a", local=[r == 0 for r in range(world_size)])]
        assert_completed(run_scenario(Scenario("agree", world_size, ["a"], ops)))

`run_scenario` uses a deadline well inside pytest-timeout's, so a hang is reported by the harness,
with every rank's stack, before pytest-timeout would have to kill anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from harness.pool import WorldPool
from harness.report import ScenarioResult
from harness.scenario import Scenario

REFERENCE = "reference_impl.adapter:Adapter"
TEST_DEADLINE_S = 20.0


def assert_completed(result: ScenarioResult) -> None:
    """Fail with the per-rank report unless every rank ran its whole sequence without an error."""
    if not result.ok:
        pytest.fail(result.render(), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "world_sizes(*sizes): run the test once per world size, as the `world_size` fixture"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("world_sizes")
    if marker is not None and "world_size" in metafunc.fixturenames:
        metafunc.parametrize("world_size", marker.args, ids=[f"ws{n}" for n in marker.args])


@pytest.fixture(scope="session")
def world_pool() -> Iterator[WorldPool]:
    with WorldPool() as pool:
        yield pool


@pytest.fixture
def run_scenario(world_pool: WorldPool) -> Callable[..., ScenarioResult]:
    def run(scenario: Scenario, impl: str = REFERENCE, deadline_s: float = TEST_DEADLINE_S) -> ScenarioResult:
        return world_pool.run(impl, scenario, deadline_s=deadline_s)

    return run
