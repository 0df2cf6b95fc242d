"""The documentation's links hold: a reader who follows one lands on a file of this repository (and on
the heading it names), or on public documentation, never on a path outside the checkout."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 220
DOCUMENTATION_HOSTS = frozenset(
    {"pytorch.org", "docs.pytorch.org", "docs.python.org", "docs.pytest.org", "docs.github.com"}
)

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"`+[^`\n]*`+")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
AUTOLINK = re.compile(r"<((?:https?|ftp|file|mailto):[^>\s]+)>")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def prose(text: str) -> str:
    """The text outside code blocks and code spans, where links are links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def link_targets(text: str) -> list[str]:
    body = prose(text)
    return [m.group(1) for pattern in (INLINE_LINK, REFERENCE_DEFINITION, AUTOLINK) for m in pattern.finditer(body)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text))


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def anchors_of(path: Path) -> set[str]:
    """The anchors a link into `path` may name: its headings' for Markdown; none for other files."""
    return anchors(path.read_text(encoding="utf-8")) if path.suffix == ".md" else set()


def link_problems(document: Path, root: Path = ROOT) -> list[str]:
    """One line per link in `document` that does not resolve inside `root` or to public documentation."""
    problems = []
    for target in link_targets(document.read_text(encoding="utf-8")):
        parts = urlsplit(target)
        if parts.scheme in ("http", "https"):
            host = (parts.hostname or "").removeprefix("www.")
            if host not in DOCUMENTATION_HOSTS:
                problems.append(f"{target}: leaves the repository for {host!r}, not a documentation site")
            continue
        if parts.scheme or parts.netloc:
            problems.append(f"{target}: a {parts.scheme or 'network'} link leaves the repository")
            continue
        if parts.path.startswith("/"):
            problems.append(f"{target}: an absolute path; link relative to the document")
            continue
        linked = (document.parent / parts.path).resolve() if parts.path else document
        if not linked.is_relative_to(root):
            problems.append(f"{target}: points outside the repository")
        elif not linked.exists():
            problems.append(f"{target}: no such file")
        elif parts.fragment and parts.fragment not in anchors_of(linked):
            problems.append(f"{target}: no heading #{parts.fragment} in {linked.relative_to(root)}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_resolves(document: Path) -> None:
    problems = link_problems(document)
    assert not problems, "\n".join(problems)


def test_readme_stays_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move details into docs/"


def test_every_doc_is_reachable_from_the_readme() -> None:
    linked = {(ROOT / urlsplit(t).path).resolve() for t in link_targets((ROOT / "README.md").read_text("utf-8"))}
    unlinked = [d.name for d in DOCUMENTS[1:] if d not in linked]
    assert not unlinked, f"README.md links none of {unlinked}"


BROKEN = """# Title

## A `code` heading

[fine](#title) [fine too](#a-code-heading) [code is not a link](`x`) `[in a span](nowhere.md)`

```
[in a block](nowhere.md)
```

[missing file](nowhere.md)
[missing anchor](#no-such-heading)
[outside](../outside.md)
[absolute](/etc/passwd)
[elsewhere](https://example.com/page)
[file scheme](file:///etc/passwd)
[ref]: other/missing.md
"""


def test_the_check_reports_each_kind_of_broken_link(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside.md").write_text("# Outside\n")
    document = root / "doc.md"
    document.write_text(BROKEN)
    problems = link_problems(document, root)
    assert [p.split(":")[0] for p in problems] == [
        "nowhere.md",
        "#no-such-heading",
        "../outside.md",
        "/etc/passwd",
        "https",
        "file",
        "other/missing.md",
    ]


LAYOUT_PROCESSES = {"parent", "rank", "forkserver", "launcher ranks", "parent and rank"}
MAX_MODULES_PER_FOLDER = 12


def _layout_table() -> dict[str, str]:
    """docs/architecture.md's layout tables: each module's path in the package, and where it runs."""
    table, folder = {}, None
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        heading = re.match(r"^### `(harness(?:/[\w/]+)?)/`$", line)
        if heading:
            folder = heading.group(1)
        row = re.match(r"^\| `(\w+\.py)` \| ([^|]+) \|", line)
        if row and folder:
            table[f"{folder}/{row.group(1)}"] = row.group(2).strip()
    return table


def test_the_architecture_lists_every_module_with_the_process_it_runs_in() -> None:
    modules = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "harness").rglob("*.py")
        if path.name != "__init__.py" and "suite" not in path.parts
    }
    table = _layout_table()
    assert sorted(modules - set(table)) == [], "modules missing from docs/architecture.md's layout"
    assert sorted(set(table) - modules) == [], "docs/architecture.md lists modules that do not exist"
    for module, runs_in in table.items():
        assert set(runs_in.split(", ")) <= LAYOUT_PROCESSES, f"{module}: unknown process {runs_in!r}"


def test_no_folder_of_the_package_holds_more_than_a_dozen_modules() -> None:
    folders: dict[Path, int] = {}
    for path in (ROOT / "harness").rglob("*.py"):
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
    crowded = {str(f.relative_to(ROOT)): n for f, n in folders.items() if n > MAX_MODULES_PER_FOLDER}
    assert crowded == {}
