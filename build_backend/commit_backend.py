"""setuptools' build backend, plus the git commit written into the package (`harness/BUILD_COMMIT`).

An installed wheel has no git checkout around it, so `suite_commit()` reads the commit this file
recorded at build time. Built from a tree without git (an sdist), a file already present is kept.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parent.parent
COMMIT_FILE = ROOT / "harness" / "BUILD_COMMIT"


def _check_setuptools() -> None:
    """pip checks pyproject's `requires` only in an isolated build; without isolation (`--no-build-isolation`,
    an older venv's bundled setuptools) an old setuptools fails later with "invalid command 'bdist_wheel'"."""
    wanted = re.search(r'"setuptools>=([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    if wanted is None:
        return
    found = tuple(int(p) for p in re.findall(r"\d+", setuptools.__version__)[:2])
    need = tuple(int(p) for p in wanted.group(1).split(".")[:2])
    if found < need:
        raise SystemExit(
            f"ddp-lifecycle-spec builds with setuptools>={wanted.group(1)}, this environment has"
            f" {setuptools.__version__}: run `python -m pip install 'setuptools>={wanted.group(1)}'` first,"
            " or install without --no-build-isolation"
        )


_check_setuptools()

from setuptools import build_meta  # noqa: E402 - after the version check, which names the fix
from setuptools.build_meta import *  # noqa: E402, F403 - the backend's other hooks, unchanged


def _git_commit() -> str | None:
    """HEAD of the checkout being built; None outside one (an sdist unpacked inside another repository too)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != ROOT:
        return None
    return lines[1]


@contextlib.contextmanager
def _commit_recorded() -> Iterator[None]:
    """The commit file in place for the build, removed afterwards if this build wrote it."""
    commit = _git_commit()
    if commit is None:
        yield
        return
    COMMIT_FILE.write_text(commit + "\n")
    try:
        yield
    finally:
        COMMIT_FILE.unlink(missing_ok=True)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):  # noqa: ANN001, ANN201
    with _commit_recorded():
        return build_meta.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):  # noqa: ANN001, ANN201
    with _commit_recorded():
        return build_meta.build_sdist(sdist_directory, config_settings)
