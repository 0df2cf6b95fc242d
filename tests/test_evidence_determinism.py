"""Evidence does not depend on the machine: the same failing implementation, certified twice with the same
seed, once alone and once beside two CPU-burning processes, writes the same evidence files byte for byte
and the same certificate apart from its timing fields."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec.certify import CertifyOptions, certify

IMPL = "tests.bad_impls.suffix_missing:Adapter"  # a wrong message on an overruled rank (C4): no stall, no race
TIMING_FIELDS = ("duration_s",)  # the schema's timing fields: the certificate's and each evidence's
BURNERS = 2
BURN = "while True: pass"


def _certified(out_dir: Path) -> dict:
    return certify(CertifyOptions(impl=IMPL, profile="core", world_sizes=(2,), seed=7, corpus=2, out_dir=str(out_dir)))


def _untimed(certificate: dict) -> dict:
    stripped = {k: v for k, v in certificate.items() if k not in TIMING_FIELDS}
    stripped["clauses"] = [
        c | {"evidence": {k: v for k, v in c["evidence"].items() if k not in TIMING_FIELDS}} if c["evidence"] else c
        for c in certificate["clauses"]
    ]
    return stripped


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.timeout(600)
def test_evidence_is_the_same_under_load(tmp_path):
    out = tmp_path / "certificate"
    quiet = _certified(out)
    assert quiet["verdict"] == "not_certified" and any(c["evidence"] for c in quiet["clauses"])
    quiet_files = _files(out / "evidence")
    quiet_json = json.loads((out / "certificate.json").read_text())
    shutil.rmtree(out)
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(BURNERS)]
    try:
        loaded = _certified(out)
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait(timeout=30)
    assert quiet_files and _files(out / "evidence") == quiet_files
    assert _untimed(loaded) == _untimed(quiet)
    assert _untimed(json.loads((out / "certificate.json").read_text())) == _untimed(quiet_json)
    assert all("duration_s" in c["evidence"] for c in loaded["clauses"] if c["evidence"])
