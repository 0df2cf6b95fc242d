"""The public Python API: certify an implementation, read a certificate back.

    from harness import certify, read_certificate

    cert = certify("my_project.lifecycle:Adapter", profile="core", world_sizes=(2,), out_dir="certificate")
    assert cert["verdict"] == "certified"
    assert read_certificate("certificate/certificate.json")["verdict"] == "certified"

Both are what `python -m harness certify` does, without the command line: the certificate is the
returned dict, written to `out_dir` (certificate.json and certificate.md) when one is given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from .records.profiles import ALL, CHOICES, PROFILES
from .records.scenario import MAX_CERTIFY_WORLD_SIZE


def certify(
    impl: str,
    *,
    profile: str = ALL,
    world_sizes: Sequence[int] = (1, 2, 3, 4),
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    stall_timeout_s: float | None = None,
    maxfail: int | None = None,
) -> dict:
    """Run the specification against `impl` (MODULE:ATTR of an adapter) and return the certificate.

    Raises ValueError for a bad profile, world size or maxfail, and `harness.rankside.adapter.AdapterLoadError`
    when the adapter cannot be loaded, before any world starts.
    """
    from .spec.certify import CertifyOptions
    from .spec.certify import certify as run_certification

    if profile not in CHOICES:
        raise ValueError(f"profile must be {ALL} or one of {', '.join(PROFILES)}, got {profile!r}")
    sizes = tuple(world_sizes)
    if not sizes or any(not isinstance(n, int) or not 1 <= n <= MAX_CERTIFY_WORLD_SIZE for n in sizes):
        raise ValueError(f"world_sizes must be integers from 1 to {MAX_CERTIFY_WORLD_SIZE}, got {sizes!r}")
    if maxfail is not None and maxfail < 1:
        raise ValueError(f"maxfail must be at least 1, got {maxfail}")
    options = CertifyOptions(
        impl=impl,
        profile=profile,
        world_sizes=sizes,
        seed=seed,
        out_dir=os.fspath(out_dir) if out_dir is not None else None,
        stall_timeout_s=stall_timeout_s,
        maxfail=maxfail,
    )
    return run_certification(options)


def read_certificate(path: str | os.PathLike) -> dict:
    """Load certificate.json (or the folder holding it) and check it against the certificate's JSON Schema.

    The full schema (harness/spec/output/certificate.schema.json) is checked when jsonschema is installed,
    otherwise only the `schema` string. Raises ValueError with one line for anything else.
    """
    from .spec.output.certificate import SCHEMA, SCHEMA_FILE

    file = os.path.join(path, "certificate.json") if os.path.isdir(path) else os.fspath(path)
    try:
        with open(file) as handle:
            cert = json.load(handle)
    except OSError as exc:
        raise ValueError(f"cannot read certificate {file}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file} is not JSON: {exc}") from None
    if not isinstance(cert, dict) or cert.get("schema") != SCHEMA:
        found = cert.get("schema") if isinstance(cert, dict) else type(cert).__name__
        raise ValueError(f"{file} is not a certificate of schema {SCHEMA} (found {found!r})")
    _check_schema(cert, file, SCHEMA_FILE)
    return cert


def _check_schema(cert: dict, file: str, schema_file: str) -> None:
    try:
        import jsonschema
    except ImportError:
        return
    with open(schema_file) as handle:
        schema = json.load(handle)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(cert))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        raise ValueError(f"{file} does not match the certificate schema at {where}: {error.message}")
