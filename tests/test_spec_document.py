"""SPEC.md, the certificate and the pytest route read one registry; published clause IDs stay."""

import json
from pathlib import Path

import pytest

from harness.profiles import PROFILES
from harness.spec.clauses import REGISTRY
from harness.spec.document import render

PUBLISHED_IDS = (
    *("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "S1", "S2", "S3", "S4", "S5", "D1", "D2", "D3"),
    *("R1", "R2", "R3", "R4", "R5"),
)
SPEC = Path(__file__).resolve().parent.parent / "SPEC.md"


def test_spec_md_is_generated_from_the_registry():
    assert SPEC.read_text() == render(), "SPEC.md is stale: run `python -m harness spec > SPEC.md`"


def test_published_clause_ids_are_never_removed_or_reused():
    ids = [clause.id for clause in REGISTRY]
    assert len(ids) == len(set(ids))
    assert set(PUBLISHED_IDS) <= set(ids)


def test_every_clause_is_fully_described():
    for clause in REGISTRY:
        assert clause.level in ("MUST", "SHOULD") and clause.profile in PROFILES
        assert clause.statement and clause.rationale and clause.method and clause.requires
        assert f"### {clause.id} {clause.title} ({clause.level})" in render()


def test_certificates_follow_their_shipped_schema(tmp_path):
    """A passing and a failing certificate, with evidence, validate against the schema the package ships."""
    jsonschema = pytest.importorskip("jsonschema")
    from harness.spec.certificate import SCHEMA, SCHEMA_FILE
    from harness.spec.certify import CertifyOptions, certify

    with open(SCHEMA_FILE) as f:
        schema = json.load(f)
    assert schema["$id"] == SCHEMA
    jsonschema.Draft202012Validator.check_schema(schema)
    for impl in ("reference_impl.adapter:Adapter", "tests.bad_impls.suffix_missing:Adapter"):
        cert = certify(CertifyOptions(impl=impl, world_sizes=(1, 2), out_dir=str(tmp_path / impl)))
        jsonschema.validate(json.loads((tmp_path / impl / "certificate.json").read_text()), schema)
        assert cert["schema"] == SCHEMA


def test_spec_md_states_every_status_and_verdict_the_certificate_can_give():
    from harness.spec.certificate import VERDICT_RULES
    from harness.statuses import CLAUSE_STATUS_MEANINGS, ClauseStatus, Verdict

    text = SPEC.read_text()
    assert set(CLAUSE_STATUS_MEANINGS) == set(ClauseStatus)
    assert all(f"- `{status}`:" in text for status in ClauseStatus)
    assert {rule.verdict for rule in VERDICT_RULES} | {Verdict.CERTIFIED} == set(Verdict)
    assert all(rule.when in " ".join(text.split()) for rule in VERDICT_RULES)
