"""pytest integration of the harness: a session-wide pool of warm worlds, fixtures and a world-size marker.

    @pytest.mark.world_sizes(2, 3)
    def test_ranks_agree(run_scenario, world_size):
        ops = [Op("germinate", "a"), Op("advance", "a", local=[r == 0 for r in range(world_size)])]
        assert_completed(run_scenario(Scenario("agree", world_size, ["a"], ops)))

`run_scenario` runs the implementation chosen for the session (`--lifecycle-impl` or LIFECYCLE_SPEC_IMPL)
unless a test names one with `impl=`, and uses a deadline well inside pytest-timeout's, so a hang is
reported by the harness, with every rank's stack, before pytest-timeout would have to kill anything.

Loaded from `pytest_plugins = ["harness.testing"]`, with `-p harness.testing`, by the entry point
`ddp_lifecycle_spec_pytest` or by a vendored suite's conftest. With an implementation chosen, the
suite's tests (`harness/spec/suite`) are added to the run, one per clause and world size.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .cli.options import checked_stall_timeout, scenario_lines
from .cli.outputs import check_folder
from .locations import SUITE_PACKAGE
from .pytest_options import (
    EVIDENCE_OPTION,
    IMPL_OPTION,
    IMPL_VARIABLE,
    PLUGIN_NAME,
    STALL_OPTION,
    add_options,
    configured_evidence_dir,
    configured_impl,
    suite_plugin_registered,
)
from .records.profiles import ALL, CHOICES, PROFILES, TRAINING
from .records.report import ScenarioResult
from .records.scenario import Scenario
from .records.statuses import ClauseStatus
from .spec.clauses import SHOULD
from .spec.implementation import describe_implementation
from .spec.judge.judging import judged_counts
from .spec.output.certificate import same_run, verdict
from .spec.runner import ClauseOutcome, ClauseRunner
from .worlds.pool import WorldPool, certification_pools
from .worlds.preload import start_forkserver

TEST_DEADLINE_S = 20.0
SUITE_DIR = Path(__file__).parent / "spec" / "suite"  # also how a route into the plugin recognises it registered


def assert_completed(result: ScenarioResult) -> None:
    """Fail with the per-rank report unless every rank ran its whole sequence without an error."""
    if not result.ok:
        pytest.fail(result.render(), pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def register_unless_present(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register this module as the plugin unless a route into it (this copy or another) already did.

    For conftest files: pytest calls the historic `pytest_addoption` of a plugin registered this late.
    """
    if not suite_plugin_registered(pluginmanager):
        pluginmanager.register(sys.modules[__name__], PLUGIN_NAME)


OUTCOMES = pytest.StashKey[list]()


def record_outcome(config: pytest.Config, world_size: int, outcome: ClauseOutcome) -> None:
    """Keep a clause test's outcome for the terminal summary, which shows what each clause judged."""
    config.stash.setdefault(OUTCOMES, []).append((world_size, outcome))


REPORTS = pytest.StashKey[dict]()


def report_once(config: pytest.Config, evidence: dict, test_name: str) -> str:
    """The ranks' report of a failing clause test's evidence, or, when an earlier test of the session showed
    the same run (`harness.spec.output.certificate.same_run`), a line naming that test: clauses failing on
    one scenario share its report, which can run to thousands of lines (every rank's stack), as the
    certificate shows it once."""
    first = config.stash.setdefault(REPORTS, {}).setdefault(same_run(evidence), test_name)
    return evidence["report"] if first == test_name else f"(the ranks' report: the same run as under {first} above)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What each clause judged, the verdict a certificate of the same clauses would give (a failed SHOULD
    clause is an xfail and does not count, as there), and the folder holding the evidence."""
    outcomes = config.stash.get(OUTCOMES, [])
    if not outcomes:
        return
    terminalreporter.section("lifecycle specification: calls judged per clause")
    verbose = config.getoption("--lifecycle-verbose")
    for world_size, outcome in outcomes:
        counts = judged_counts(outcome.judged, outcome.unjudged)
        status = f"{outcome.status} ({SHOULD}, not counted)" if tolerated_failure(outcome) else outcome.status
        terminalreporter.write_line(f"{outcome.clause.id} at {world_size} rank(s): {status} ({counts})")
        for line in scenario_lines(outcome) if verbose else []:
            terminalreporter.write_line(line)
    judged = verdict([outcome for _, outcome in outcomes], interrupted=False)
    terminalreporter.write_line(f"verdict of the clauses run, as a certificate gives it: {judged}")
    files = {o.evidence["scenario_file"] for _, o in outcomes if (o.evidence or {}).get("scenario_file")}
    if files:
        where = configured_evidence_dir(config)
        terminalreporter.write_line(f"evidence: {len(files)} file(s) in {where}, kept between sessions")


def tolerated_failure(outcome: ClauseOutcome) -> bool:
    """A failed SHOULD clause: reported (as an xfail), never a failure of the session, as the certificate
    does not count it against the verdict."""
    return outcome.status == ClauseStatus.FAIL and outcome.clause.level == SHOULD


def configured_profile(config: pytest.Config) -> str:
    return config.getoption("--lifecycle-profile")


def configured_world_sizes(config: pytest.Config) -> list[int]:
    from .cli.options import world_sizes

    return list(world_sizes(config.getoption("--lifecycle-world-sizes")))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "world_sizes(*sizes): run the test once per world size, given as the `world_size` fixture"
    )
    for profile in PROFILES:
        config.addinivalue_line("markers", f"{profile}: a clause of the specification's `{profile}` profile")
    impl = configured_impl(config)
    if impl:
        check_options(config, impl)
        if runs_worlds(config):
            start_forkserver(models=configured_profile(config) in TRAINING)  # its imports overlap collection's
        if not any(_names_suite(arg) for arg in config.args):
            config.args.append(str(SUITE_DIR))


def runs_worlds(config: pytest.Config) -> bool:
    """Whether this process will run the suite's worlds: not when it only collects, nor as the controller
    of pytest-xdist workers (each worker runs its own)."""
    controller = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")
    return not config.option.collectonly and not controller


def check_options(config: pytest.Config, impl: str) -> None:
    """Refuse a bad implementation or world size once, at start, instead of as an error of every test."""
    from .errors import AdapterLoadError, OutputPathError, UsageError

    try:
        configured_world_sizes(config)
        checked_stall_timeout(config.getoption(STALL_OPTION), STALL_OPTION)
        if configured_profile(config) not in CHOICES:
            raise UsageError(
                f"--lifecycle-profile must be {ALL} or one of {', '.join(PROFILES)}, got {configured_profile(config)!r}"
            )
        if config.getoption(EVIDENCE_OPTION) is not None:
            check_folder(config.getoption(EVIDENCE_OPTION), EVIDENCE_OPTION)
        check_folder(str(configured_evidence_dir(config)), f"the evidence folder ({EVIDENCE_OPTION})")
        describe_implementation(impl)
    except (AdapterLoadError, OutputPathError, UsageError) as exc:
        raise pytest.UsageError(f"lifecycle-spec: {exc}") from None


def evidence_folder(config: pytest.Config) -> Path:
    """The session's evidence folder, created if need be; one this plugin creates holds a `.gitignore`
    of everything, as pytest's own `.pytest_cache` does, so the default under the rootdir stays out of git."""
    folder = configured_evidence_dir(config)
    if not folder.is_dir():
        folder.mkdir(parents=True)
        (folder / ".gitignore").write_text("# evidence of the lifecycle specification suite's pytest route\n*\n")
    return folder


def suite_asked_for(config: pytest.Config) -> bool:
    """An implementation was chosen, or the suite was named on the command line (then it skips without one)."""
    return configured_impl(config) is not None or any(_names_suite(arg) for arg in config.args)


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
    """A pool of warm worlds (ranks started once, reused while healthy) shared by the whole session."""
    with WorldPool() as pool:
        yield pool


@pytest.fixture
def run_scenario(world_pool: WorldPool, request: pytest.FixtureRequest) -> Callable[..., ScenarioResult]:
    """run_scenario(scenario, impl=None, deadline_s=20.0) -> ScenarioResult: run one scenario in a warm world.

    The implementation is `impl` (MODULE:ATTR) when given, else the session's (--lifecycle-impl or
    LIFECYCLE_SPEC_IMPL); with neither the test fails rather than run something it did not choose.
    """
    session_impl = configured_impl(request.config)

    def run(scenario: Scenario, impl: str | None = None, deadline_s: float = TEST_DEADLINE_S) -> ScenarioResult:
        chosen = impl or session_impl
        if chosen is None:
            pytest.fail(
                f"run_scenario: no implementation chosen: pass impl='MODULE:ATTR', {IMPL_OPTION} MODULE:ATTR "
                f"or set {IMPL_VARIABLE}",
                pytrace=False,
            )
        return world_pool.run(chosen, scenario, deadline_s=deadline_s)

    return run


def suite_pools(config: pytest.Config) -> tuple[WorldPool, WorldPool]:
    """The clause tests' pools: those `certify` runs in for the same options, stall rule included, so a
    slow but correct implementation is judged alike on both routes (`world_pool`, for a test's own
    scenarios with their own deadlines, has none)."""
    return certification_pools(config.getoption(STALL_OPTION))


@pytest.fixture(scope="session")
def lifecycle_runner(request: pytest.FixtureRequest) -> Iterator[ClauseRunner]:
    """Judges the specification's clauses against the session's implementation, with evidence files in
    `--lifecycle-evidence-dir` (default `.lifecycle-evidence/` under the rootdir); skips the test without one."""
    impl = configured_impl(request.config)
    if impl is None:
        pytest.skip(f"no implementation given: pass {IMPL_OPTION} MODULE:ATTR or set {IMPL_VARIABLE}")
    warm, alone = suite_pools(request.config)
    with warm, alone:
        yield ClauseRunner(
            describe_implementation(impl),
            warm,
            seed=request.config.getoption("--lifecycle-seed"),
            evidence_dir=str(evidence_folder(request.config)),
            alone=alone,
        )
