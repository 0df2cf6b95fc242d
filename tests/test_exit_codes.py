"""Exit codes mean one thing each, whatever happens when: 0 certified, 1 not certified, 2 inconclusive or
bad input, 3 an internal error of the harness (one line naming its saved traceback). Help documents
every option with its default, and the exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile

from harness.cli import commands as cli
from harness.cli import options
from harness.spec.runner import ClauseOutcome
from tests.harness_util import harness_command

CERTIFY = ("certify", "--world-sizes", "2", "--profile", "core", "--corpus", "1")


def test_internal_error_exits_3_with_one_line_naming_the_saved_traceback(monkeypatch, capsys, tmp_path):
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("the harness itself broke")

    monkeypatch.setitem(cli.COMMANDS, "spec", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli.main(["spec"]) == cli.INTERNAL_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "RuntimeError: the harness itself broke" in lines[0], lines
    saved = lines[0].rsplit(" ", 1)[-1]
    assert saved.startswith(str(tmp_path))
    with open(saved) as f:
        text = f.read()
    assert text.startswith("Traceback") and "in broken" in text


def test_sigterm_after_the_certificate_keeps_the_verdicts_code(tmp_path):
    command = harness_command(*CERTIFY, "--out", str(tmp_path / "cert"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the verdict line arrives as it is printed
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed = []
    try:
        for line in process.stdout:
            printed.append(line)
            if line.startswith("verdict:"):
                process.send_signal(signal.SIGTERM)
                break
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert line.startswith("verdict: certified"), line
    assert any(printed_line.split()[:1] == ["C1"] for printed_line in printed), printed  # the clause table came first
    assert process.returncode == 0, process.stderr.read()
    assert (tmp_path / "cert" / "certificate.json").exists()


def test_every_option_has_help_with_its_default():
    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    described = {choice.dest for choice in commands._choices_actions if choice.help and choice.help.strip()}
    assert described == set(commands.choices)
    for name, sub in commands.choices.items():
        assert sub.description and sub.description.endswith("."), name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
        text = sub.format_help()
        for action in sub._actions:
            shown = cli.HelpFormatter("x")._get_help_string(action) or ""
            assert shown.replace("%(default)s", "").count("default") <= 1, (
                f"{name} {action.option_strings}: its default said twice: {shown}"
            )
        if any(a.option_strings and a.default is not argparse.SUPPRESS for a in sub._actions[1:]):
            assert "(default:" in text, name
    certify_help = commands.choices["certify"].format_help()
    for code in ("0  certified", "1  not certified", "2  inconclusive", "3  an internal error"):
        assert code in certify_help


def test_reasons_are_cut_at_word_boundaries():
    reason = "the synced result differs from rank 0's decision on rank 3 " * 4
    short = options.shorten(reason, 40)
    assert len(short) <= 40 and short.endswith("…")
    assert reason.startswith(short[:-1]) and reason[len(short) - 1] == " "
    assert options.shorten("short enough", 40) == "short enough"


def test_one_scenario_is_singular(capsys):
    from harness.spec.clauses import REGISTRY

    options.print_clause(ClauseOutcome(REGISTRY[0], "pass", scenarios=1))
    options.print_clause(ClauseOutcome(REGISTRY[0], "pass", scenarios=2))
    first, second = capsys.readouterr().out.splitlines()
    assert first.rstrip().endswith(" 1 scenario") and second.rstrip().endswith(" 2 scenarios")
