"""setuptools' build backend, plus the git commit written into the package (`harness/BUILD_COMMIT`).

An installed wheel has no git checkout around it, so `suite_commit()` reads the commit this file
recorded at build time. Built from a tree without git (an sdist), a file already present is kept.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403 - the backend's other hooks, unchanged

ROOT = Path(__file__).resolve().parent.parent
COMMIT_FILE = ROOT / "harness" / "BUILD_COMMIT"


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
