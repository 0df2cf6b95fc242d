"""SPEC.md, the certificate and the pytest route read one registry; published clause IDs stay."""

import json
from pathlib import Path

import pytest

from harness.records.profiles import PROFILES
from harness.spec.clauses import REGISTRY
from harness.spec.output.document import render

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


def test_the_shipped_schema_is_a_valid_schema_with_its_id():
    """The schema the package ships; real certificates, passing (the reference's, every profile) and failing
    (each known-bad implementation's, with evidence), are validated against it in test_spec_certify.py."""
    jsonschema = pytest.importorskip("jsonschema")
    from harness.spec.output.certificate import SCHEMA, SCHEMA_FILE

    with open(SCHEMA_FILE) as f:
        schema = json.load(f)
    assert schema["$id"] == SCHEMA
    jsonschema.Draft202012Validator.check_schema(schema)


def test_spec_md_states_every_status_and_verdict_the_certificate_can_give():
    from harness.records.statuses import CLAUSE_STATUS_MEANINGS, ClauseStatus, Verdict
    from harness.spec.output.certificate import VERDICT_RULES

    text = SPEC.read_text()
    assert set(CLAUSE_STATUS_MEANINGS) == set(ClauseStatus)
    assert all(f"- `{status}`:" in text for status in ClauseStatus)
    assert {rule.verdict for rule in VERDICT_RULES} | {Verdict.CERTIFIED} == set(Verdict)
    assert all(rule.when in " ".join(text.split()) for rule in VERDICT_RULES)
