"""The public Python API: `certify` returns (and writes) the certificate, `read_certificate` loads and checks it."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from harness import certify, read_certificate
from harness.locations import REFERENCE
from harness.spec.clauses import select
from harness.spec.output.certificate import SCHEMA_FILE

from .downstream_util import ROOT


@pytest.fixture(scope="module")
def certified(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("api") / "cert"
    return certify(REFERENCE, profile="core", world_sizes=(2,), out_dir=out), str(out)


def test_certify_returns_the_certificate_it_writes(certified):
    cert, out = certified
    assert cert["verdict"] == "certified"
    assert {c["id"] for c in cert["clauses"]} == {clause.id for clause in select("core")}
    assert read_certificate(out) == cert
    assert read_certificate(f"{out}/certificate.json") == cert


def test_a_real_certificate_matches_the_shipped_schema(certified):
    with open(SCHEMA_FILE) as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(certified[0])


def test_read_certificate_refuses_what_is_not_a_certificate(certified, tmp_path):
    cert, _ = certified
    cases = {
        "missing.json": None,
        "text.json": "not json",
        "other.json": json.dumps({"schema": "something/else"}),
        "bad-verdict.json": json.dumps({**cert, "verdict": "maybe"}),
        "no-clauses.json": json.dumps({k: v for k, v in cert.items() if k != "clauses"}),
    }
    expected = {
        "missing.json": "cannot read certificate",
        "text.json": "is not JSON",
        "other.json": "is not a certificate of schema",
        "bad-verdict.json": "at verdict",
        "no-clauses.json": "'clauses' is a required property",
    }
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=expected[name]) as raised:
            read_certificate(tmp_path / name)
        assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"profile": "nosuch"}, "profile must be"),
        ({"world_sizes": (0,)}, "world_sizes must be"),
        ({"world_sizes": ()}, "world_sizes must be"),
        ({"maxfail": 0}, "maxfail must be"),
    ],
)
def test_certify_refuses_bad_options_before_any_world_starts(options, message):
    with pytest.raises(ValueError, match=message):
        certify(REFERENCE, **options)


def test_import_harness_stays_light():
    code = "import sys, harness; from harness import certify, read_certificate; print('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_runtime_modules_do_not_import_pytest():
    code = """
import pkgutil, sys, importlib, harness, reference_impl
pytest_route = ("harness.testing", "harness.pytest_options", "harness.spec.suite")
for package in (harness, reference_impl):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.startswith(pytest_route):
            importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.split(".")[0] in ("pytest", "_pytest", "pytest_timeout")))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"
