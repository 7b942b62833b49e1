"""The documentation builds as a site with no broken link (``mkdocs build --strict``), and the
README stays a newcomer's page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_docs_build_strict(tmp_path):
    if subprocess.run([sys.executable, "-c", "import mkdocs"]).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("mkdocs is not installed (it comes with the test extra)")
        pytest.skip("pip install mkdocs")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "performance" / "index.html").exists()


def test_the_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), target
    assert not re.search(r"\b(?:at|commit) [0-9a-f]{7,40}\b", readme)  # history lives in git


def test_no_page_or_docstring_carries_commit_hashes():
    """Today's figures in the docs, history in git: no page, README or module names a commit."""
    commit = re.compile(r"(?<![\w/.-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,12}(?![\w/-])")
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for package in ("rag", "ingest", "server", "eval", "mmrag"):
        files += [p for p in sorted((ROOT / package).rglob("*.py")) if "datasets" not in p.parts]
    found = [f"{f.relative_to(ROOT)}:{n}: {m.group(0)}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
             for m in commit.finditer(line)]
    assert not found, found
