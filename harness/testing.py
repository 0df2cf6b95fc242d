"""pytest integration of the harness: a session-wide pool of warm worlds and a world-size marker.

    @pytest.mark.world_sizes(2, 3)
    def test_ranks_agree(run_scenario, world_size):
        ops = [Op("germinate", "a"), Op("advance", "a", local=[r == 0 for r in range(world_size)])]
        assert_completed(run_scenario(Scenario("agree", world_size, ["a"], ops)))

`run_scenario` uses a deadline well inside pytest-timeout's, so a hang is reported by the harness,
with every rank's stack, before pytest-timeout would have to kill anything.

The same plugin carries the specification suite's options. It stays inert unless
`--lifecycle-impl MODULE:ATTR` (or the `LIFECYCLE_SPEC_IMPL` variable) is given; then the suite's
tests (`harness/spec/suite`) are added to the run, one per clause and world size.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .locations import REFERENCE, SUITE_PACKAGE
from .pool import WorldPool
from .report import ScenarioResult
from .scenario import Scenario
from .spec.clauses import PROFILES
from .spec.runner import ClauseOutcome, ClauseRunner, describe_implementation

TEST_DEADLINE_S = 20.0
SUITE_DIR = Path(__file__).parent / "spec" / "suite"


def assert_completed(result: ScenarioResult) -> None:
    """Fail with the per-rank report unless every rank ran its whole sequence without an error."""
    if not result.ok:
        pytest.fail(result.render(), pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lifecycle-spec", "DDP lifecycle specification suite")
    group.addoption("--lifecycle-impl", default=None, help="MODULE:ATTR of the adapter to certify")
    group.addoption("--lifecycle-world-sizes", default="1,2,3,4", help="world sizes, e.g. 1,2,3,4")
    group.addoption("--lifecycle-seed", type=int, default=0, help="seed of the generated scenarios")
    group.addoption(
        "--lifecycle-profile",
        default="all",
        choices=("all", *PROFILES),
        help="the clauses to run: one profile, or all (default); the same as -m PROFILE",
    )


def configured_impl(config: pytest.Config) -> str | None:
    return config.getoption("--lifecycle-impl") or os.environ.get("LIFECYCLE_SPEC_IMPL") or None


OUTCOMES = pytest.StashKey[list]()


def record_outcome(config: pytest.Config, world_size: int, outcome: ClauseOutcome) -> None:
    """Keep a clause test's outcome for the terminal summary, which shows what each clause judged."""
    config.stash.setdefault(OUTCOMES, []).append((world_size, outcome))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    outcomes = config.stash.get(OUTCOMES, [])
    if not outcomes:
        return
    terminalreporter.section("lifecycle specification: calls judged per clause")
    for world_size, outcome in outcomes:
        counts = f"{outcome.judged} calls judged, {outcome.unjudged} not"
        terminalreporter.write_line(f"{outcome.clause.id} at {world_size} rank(s): {outcome.status} ({counts})")


def configured_profile(config: pytest.Config) -> str:
    return config.getoption("--lifecycle-profile")


def configured_world_sizes(config: pytest.Config) -> list[int]:
    from .options import world_sizes

    return list(world_sizes(config.getoption("--lifecycle-world-sizes")))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "world_sizes(*sizes): run the test once per world size, as the `world_size` fixture"
    )
    for profile in PROFILES:
        config.addinivalue_line("markers", f"{profile}: a clause of the specification's `{profile}` profile")
    impl = configured_impl(config)
    if impl:
        check_options(config, impl)
        if not any(_names_suite(arg) for arg in config.args):
            config.args.append(str(SUITE_DIR))


def check_options(config: pytest.Config, impl: str) -> None:
    """Refuse a bad implementation or world size once, at start, instead of as an error of every test."""
    from .errors import AdapterLoadError, UsageError

    try:
        configured_world_sizes(config)
        describe_implementation(impl)
    except (AdapterLoadError, UsageError) as exc:
        raise pytest.UsageError(f"lifecycle-spec: {exc}") from None


def _names_suite(arg: str) -> bool:
    if arg.split("::")[0] == SUITE_PACKAGE:
        return True
    path = Path(arg.split("::")[0]).resolve()
    return path == SUITE_DIR or SUITE_DIR in path.parents


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


@pytest.fixture(scope="session")
def lifecycle_runner(
    world_pool: WorldPool, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ClauseRunner:
    impl = configured_impl(request.config)
    if impl is None:
        pytest.skip("no implementation given: pass --lifecycle-impl MODULE:ATTR or set LIFECYCLE_SPEC_IMPL")
    return ClauseRunner(
        describe_implementation(impl),
        world_pool,
        seed=request.config.getoption("--lifecycle-seed"),
        evidence_dir=str(tmp_path_factory.mktemp("lifecycle-evidence")),
    )
