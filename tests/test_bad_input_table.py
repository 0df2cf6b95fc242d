"""Every bad input is refused before the run: one line on stderr and exit 2 (for the pytest route, one
usage error), quickly, with nothing left behind: each command runs with a temporary folder of its own,
which must still be empty afterwards (no world folder, no forkserver socket, no saved traceback).

The table runs through the CLI's `main()` in this process (the run folder reset, so a world or a
forkserver started before the refusal would show in the temporary folder, and no new child process
allowed), the pytest route's through the plugin's check at configure. `SUBPROCESS` and
`PYTEST_ROUTE_AS_PROGRAM` name the cases also run as real programs, for their exit code and their
"one line, no traceback" promise, among them an adapter refused only once its module (and torch) loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from harness import testing
from harness.cli import commands as cli
from harness.procs import scratch
from harness.pytest_options import EVIDENCE_OPTION, IMPL_OPTION, STALL_OPTION, configured_impl
from harness.worlds import preload

ROOT = Path(__file__).resolve().parent.parent
REFUSED_WITHIN_S = 120.0  # a bound on a hang, not a speed test: the in-process cases see any world or process start
PYTEST_USAGE_ERROR = 4

GOOD_OPS = [{"op": "germinate", "slot": "a"}, {"op": "advance", "slot": "a"}]


def scenario(**changes: object) -> str:
    return json.dumps({"world_size": 2, "slots": ["a"], "ops": GOOD_OPS, **changes})


def with_op(**fields: object) -> str:
    return scenario(ops=[{"op": "germinate", "slot": "a"}, {"op": "advance", "slot": "a", **fields}])


# name: (arguments, extra environment, expected text of the one line). "{tmp}" is the test's folder;
# "{file}" an existing file in it, "{scenario}" a valid scenario file.
COMMANDS = {
    "certify --out empty": (["certify", "--out", ""], {}, "--out is empty"),
    "certify --out an existing file": (["certify", "--out", "{file}"], {}, "exists and is not a folder"),
    "certify --out below a file": (["certify", "--out", "{file}/cert"], {}, "is a file, not a folder"),
    "certify --out unwritable": (["certify", "--out", "/proc/certificate"], {}, "cannot write in '/proc'"),
    "certify --impl without colon": (["certify", "--impl", "garbage"], {}, "not of the form MODULE:ATTR"),
    "certify --impl empty module": (["certify", "--impl", ":Adapter"], {}, "not of the form MODULE:ATTR"),
    "certify --impl module only": (["certify", "--impl", "reference_impl.adapter"], {}, "not of the form MODULE:ATTR"),
    "certify --impl unimportable": (["certify", "--impl", "no_such_module:Adapter"], {}, "cannot import module"),
    "certify --impl unknown attribute": (["certify", "--impl", "reference_impl.adapter:Nope"], {}, "has no attribute"),
    "certify --impl not callable": (["certify", "--impl", "reference_impl:__version__"], {}, "not an adapter class"),
    "certify --impl no adapter": (["certify", "--impl", "tests.spec_adapters:not_an_adapter"], {}, "did not produce"),
    "certify implementation from the environment": (["certify"], {"LIFECYCLE_SPEC_IMPL": "garbage"}, "MODULE:ATTR"),
    "certify world size 0": (["certify", "--world-sizes", "0"], {}, "from 1 to 8"),
    "certify negative world size": (["certify", "--world-sizes", "2,-1"], {}, "from 1 to 8"),
    "certify world size too large": (["certify", "--world-sizes", "9"], {}, "from 1 to 8"),
    "certify world size not a number": (["certify", "--world-sizes", "two"], {}, "must be integers"),
    "certify world sizes empty": (["certify", "--world-sizes", ""], {}, "must be integers"),
    "certify --repeat 0": (["certify", "--repeat", "0"], {}, "positive integer"),
    "certify --maxfail 0": (["certify", "--maxfail", "0"], {}, "--maxfail takes a positive integer"),
    "certify --stall-timeout 0": (["certify", "--stall-timeout", "0"], {}, "--stall-timeout takes a positive number"),
    "certify --stall-timeout negative": (["certify", "--stall-timeout", "-1"], {}, "takes a positive number"),
    "certify --corpus 0": (["certify", "--corpus", "0"], {}, "positive integer"),
    "certify --corpus negative": (["certify", "--corpus", "-3"], {}, "positive integer"),
    "certify --corpus not a number": (["certify", "--corpus", "many"], {}, "invalid int value"),
    "certify --seed not a number": (["certify", "--seed", "x"], {}, "invalid int value"),
    "certify unknown profile": (["certify", "--profile", "nope"], {}, "invalid choice"),
    "certify unknown launcher": (["certify", "--launcher", "mpirun"], {}, "invalid choice"),
    "certify nccl without a launcher": (["certify", "--backend", "nccl"], {}, "needs --launcher env"),
    "certify --verdict-file without a launcher": (["certify", "--verdict-file", "{tmp}/v"], {}, "needs --launcher"),
    "certify --launcher env --repeat": (
        ["certify", "--launcher", "env", "--repeat", "2"],
        {},
        "--repeat is not available with --launcher env",
    ),
    "certify --launcher env --pg-timeout 0": (
        ["certify", "--launcher", "env", "--pg-timeout", "0"],
        {},
        "--pg-timeout takes a positive number",
    ),
    "certify --launcher env --verdict-file in no folder": (
        ["certify", "--launcher", "env", "--verdict-file", "{tmp}/absent/code"],
        {},
        "does not exist",
    ),
    "certify unknown option": (["certify", "--fast"], {}, "unrecognized arguments"),
    "unknown command": (["grow"], {}, "invalid choice"),
    "replay missing file": (["replay", "{tmp}/absent.json"], {}, "cannot read scenario"),
    "replay a folder": (["replay", "{tmp}"], {}, "cannot read scenario"),
    "replay --impl without colon": (["replay", "{scenario}", "--impl", "garbage"], {}, "not of the form"),
    "replay --impl unimportable": (["replay", "{scenario}", "--impl", "no_such:Adapter"], {}, "cannot import"),
    "replay implementation from the environment": (["replay", "{scenario}"], {"LIFECYCLE_SPEC_IMPL": "x"}, "MODULE:"),
    "replay unknown clause": (["replay", "{scenario}", "--clause", "C99"], {}, "unknown clause"),
    "replay --html a folder": (["replay", "{scenario}", "--html", "{tmp}"], {}, "is a folder; name a file"),
    "bench --out a folder": (["bench", "--quick", "--out", "{tmp}"], {}, "is a folder"),
    "bench --out missing folder": (["bench", "--quick", "--out", "{tmp}/no/such/figures.json"], {}, "does not exist"),
    "bench --out empty": (["bench", "--quick", "--out", ""], {}, "--out is empty"),
    "bench unknown option": (["bench", "--slow"], {}, "unrecognized arguments"),
}

SCENARIOS = {
    "not UTF-8": (b'{"world_size": 2, "name": "caf\xe9"}', "not UTF-8"),
    "malformed JSON": (b"{not json", "malformed scenario JSON"),
    "truncated JSON": (b'{"world_size": 2, "slots": ["a"], "ops": [{"op": "germ', "malformed scenario JSON"),
    "not an object": (b"[1, 2]", "must be a JSON object"),
    "deadline_s a word": (scenario(deadline_s="soon"), "deadline_s must be a number"),
    "deadline_s negative": (scenario(deadline_s=-1), "deadline_s must be a number"),
    "deadline_s zero": (scenario(deadline_s=0), "deadline_s must be a number"),
    "deadline_s huge": (scenario(deadline_s=1e9), "deadline_s must be a number"),
    "deadline_s true": (scenario(deadline_s=True), "deadline_s must be a number"),
    "slots a string": (scenario(slots="a"), "slots must be distinct"),
    "slots numbers": (scenario(slots=[1]), "slots must be distinct"),
    "slots repeated": (scenario(slots=["a", "a"]), "distinct"),
    "world size a string": (scenario(world_size="2"), "world size must be"),
    "world size too large": (scenario(world_size=99), "world size must be"),
    "world size 0": (scenario(world_size=0, ops=[]), "world size must be"),
    "process_group a word": (scenario(process_group="no"), "process_group must be true or false"),
    "name a number": (scenario(name=5), "name must be a string"),
    "gates unknown": (scenario(gates="magic"), "gates must be one of"),
    "rank_ops a list": (scenario(rank_ops=[]), "rank_ops must be an object"),
    "rank_ops rank outside": (scenario(rank_ops={"5": GOOD_OPS}), "outside world size"),
    "unknown key": (scenario(colour="red"), "unknown scenario keys"),
    "fault seconds a word": (
        scenario(ops=[{"op": "fault", "fault": {"kind": "sleep", "seconds": "x"}}]),
        "fault seconds must be a number",
    ),
    "fault seconds negative": (
        scenario(ops=[{"op": "fault", "fault": {"kind": "sleep", "seconds": -5}}]),
        "fault seconds must be a number",
    ),
    "fault exit code out of range": (
        scenario(ops=[{"op": "fault", "fault": {"kind": "exit", "code": 999}}]),
        "exit code must be an integer",
    ),
    "fault unknown kind": (scenario(ops=[{"op": "fault", "fault": {"kind": "boom"}}]), "fault kind must be one of"),
    "fault unknown parameter": (
        scenario(ops=[{"op": "fault", "fault": {"kind": "sleep", "minutes": 1}}]),
        "unknown fault parameters",
    ),
    "fault not an object": (scenario(ops=[{"op": "fault", "fault": "kill"}]), "fault must be an object"),
    "local a word": (with_op(local="yes"), "local decision must be"),
    "local fault unknown": (with_op(local={"fault": "boom"}), "fault kind must be one of"),
    "local wrong length": (with_op(local=[True]), "local has 1 entries"),
    "local passed a word": (with_op(local={"passed": "yes"}), "passed must be true or false"),
    "ranks a number": (with_op(ranks=5), "ranks must be a list"),
    "ranks outside": (with_op(ranks=[7]), "outside world size"),
    "continue_on_error a word": (with_op(continue_on_error="yes"), "continue_on_error must be true or false"),
    "metrics a word": (with_op(metrics="fast"), "metrics must be an object"),
    "seed_id a number": (scenario(ops=[{"op": "germinate", "slot": "a", "seed_id": 3}]), "seed_id must be a string"),
    "unknown stage": (with_op(target="SPROUTED"), "unknown stage"),
    "unknown stage on an empty slot": (
        scenario(ops=[{"op": "advance", "slot": "a", "target": "SPROUTED"}]),
        "unknown stage",
    ),
    "unknown op": (scenario(ops=[{"op": "grow", "slot": "a"}]), "unknown op"),
    "unknown slot": (scenario(ops=[{"op": "germinate", "slot": "b"}]), "unknown slot"),
    "op key unknown": (scenario(ops=[{"op": "germinate", "slot": "a", "when": 1}]), "unknown keys"),
}

PYTEST_ROUTE = {
    "impl without colon": (["--lifecycle-impl", "garbage"], {}, "not of the form MODULE:ATTR"),
    "impl unimportable": (["--lifecycle-impl", "no_such:Adapter"], {}, "cannot import module"),
    "impl unknown attribute": (["--lifecycle-impl", "reference_impl.adapter:Nope"], {}, "has no attribute"),
    "impl from the environment": ([], {"LIFECYCLE_SPEC_IMPL": "garbage"}, "not of the form MODULE:ATTR"),
    "world size 0": (
        ["--lifecycle-impl", "reference_impl.adapter:Adapter", "--lifecycle-world-sizes", "0"],
        {},
        "1 to 8",
    ),
}


# Refused only once the adapter's module is loaded: certify starts the forkserver first, so that its torch import
# overlaps the module's. In this process the forkserver's start is only recorded; "no adapter" runs as the program.
LOADS_ADAPTER = {"certify --impl unknown attribute", "certify --impl not callable", "certify --impl no adapter"}
# Cases also run as the real program: argparse's own error, the environment's default, adapters, scenarios.
SUBPROCESS = {
    "certify --impl no adapter",
    "unknown command",
    "certify implementation from the environment",
    "certify --impl unimportable",
    "replay --impl without colon",
    "scenario: not UTF-8",
    "scenario: unknown stage",
}


# The pytest route as a real pytest run: exit code 4, at most two lines, no traceback.
PYTEST_ROUTE_AS_PROGRAM = {"impl from the environment", "world size 0"}


def run(command: list[str], tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`command` from the test's folder, importing this checkout, with a temporary folder of its own."""
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    environment = {k: v for k, v in os.environ.items() if k != "LIFECYCLE_SPEC_IMPL"}
    environment.update({"PYTHONPATH": str(ROOT), "TMPDIR": str(scratch_dir), **env})
    return subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=REFUSED_WITHIN_S
    )


def run_in_process(args: list[str], tmp_path: Path, env: dict[str, str], monkeypatch, capsys, forkserver: bool):
    """`main(args)` here, as `run` would start it: the test's folder, its environment, a temporary folder of its own
    and no run folder yet, so anything that would start a world makes one there. The forkserver's start is recorded,
    not done, and must not happen unless `forkserver`."""
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIFECYCLE_SPEC_IMPL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TMPDIR", str(scratch_dir))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_dir))
    monkeypatch.setattr(scratch, "_run_folder", None)
    forkserver_starts: list[None] = []
    monkeypatch.setattr(preload, "start_forkserver", lambda **_: forkserver_starts.append(None))
    children = {child.pid for child in psutil.Process().children(recursive=True)}
    capsys.readouterr()
    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse's own errors exit, as they do in the program
        code = exc.code
    captured = capsys.readouterr()
    started = {child.pid for child in psutil.Process().children(recursive=True)} - children
    assert not started, f"processes started for bad input: {started}"
    assert forkserver or not forkserver_starts, "the forkserver was started for bad input"
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


def assert_refused(done: subprocess.CompletedProcess, expected: str, tmp_path: Path) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert not done.stdout, done.stdout
    assert not list((tmp_path / "scratch").iterdir()), "left behind in the temporary folder"


def fill(arg: str, tmp_path: Path) -> str:
    return arg.format(tmp=tmp_path, file=tmp_path / "a-file", scenario=tmp_path / "good.json")


def refuse_command(case: str, tmp_path: Path, route) -> None:
    args, env, expected = COMMANDS[case]
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "good.json").write_text(scenario())
    assert_refused(route([fill(a, tmp_path) for a in args], env), expected, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "good.json", "scratch"]


def refuse_scenario(case: str, tmp_path: Path, route) -> None:
    content, expected = SCENARIOS[case]
    path = tmp_path / "scenario.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    done = route(["replay", str(path)], {})
    assert_refused(done, expected, tmp_path)
    assert str(path) in done.stderr


def in_process(tmp_path: Path, monkeypatch, capsys, forkserver: bool = False):
    return lambda args, env: run_in_process(args, tmp_path, env, monkeypatch, capsys, forkserver)


def as_program(tmp_path: Path):
    return lambda args, env: run([sys.executable, "-m", "harness", *args], tmp_path, env)


@pytest.mark.parametrize("case", sorted(COMMANDS))
def test_bad_command_is_refused_first(case, tmp_path, monkeypatch, capsys):
    refuse_command(case, tmp_path, in_process(tmp_path, monkeypatch, capsys, forkserver=case in LOADS_ADAPTER))


@pytest.mark.parametrize("case", sorted(SCENARIOS))
def test_bad_scenario_is_refused_first(case, tmp_path, monkeypatch, capsys):
    refuse_scenario(case, tmp_path, in_process(tmp_path, monkeypatch, capsys))


@pytest.mark.parametrize("case", sorted(SUBPROCESS))
def test_the_program_refuses_with_one_line_and_no_traceback(case, tmp_path):
    kind, _, name = case.partition("scenario: ")
    if kind:
        refuse_command(case, tmp_path, as_program(tmp_path))
    else:
        refuse_scenario(name, tmp_path, as_program(tmp_path))


def pytest_route_config(args: list[str], tmp_path: Path) -> SimpleNamespace:
    """What the plugin reads of a pytest config given `args` (pairs of option and value) started in `tmp_path`."""
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = {
        IMPL_OPTION: None,
        "--lifecycle-world-sizes": "1,2,3,4",
        "--lifecycle-profile": "all",
        EVIDENCE_OPTION: None,
        STALL_OPTION: None,
        **given,
    }
    config = SimpleNamespace(rootpath=tmp_path, invocation_params=SimpleNamespace(dir=tmp_path))
    config.getoption = options.__getitem__
    return config


@pytest.mark.parametrize("case", sorted(PYTEST_ROUTE))
def test_pytest_route_refuses_at_configure(case, tmp_path, monkeypatch):
    """The plugin's check at configure, in this process: the usage error's text, and nothing made."""
    args, env, expected = PYTEST_ROUTE[case]
    monkeypatch.delenv("LIFECYCLE_SPEC_IMPL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = pytest_route_config(args, tmp_path)
    with pytest.raises(pytest.UsageError) as refused:
        testing.check_options(config, configured_impl(config))
    assert str(refused.value).startswith("lifecycle-spec: ") and expected in str(refused.value), refused.value
    assert "\n" not in str(refused.value)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("case", sorted(PYTEST_ROUTE_AS_PROGRAM))
def test_pytest_route_gives_one_usage_error(case, tmp_path):
    args, env, expected = PYTEST_ROUTE[case]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "harness.spec.suite", *args]
    done = run(command, tmp_path, env)
    assert done.returncode == PYTEST_USAGE_ERROR, done.stdout + done.stderr
    output = (done.stdout + done.stderr).strip()
    assert "Traceback" not in output and len(output.splitlines()) <= 2, output
    assert output.startswith("ERROR: lifecycle-spec:") and expected in output, output
    assert not list((tmp_path / "scratch").iterdir())
