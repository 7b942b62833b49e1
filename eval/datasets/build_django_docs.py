"""Builds eval/datasets/django-docs.jsonl and fetches its corpus, Django's own documentation
(see README.md here). The questions (django_docs_cases.py) were written by reading the pages
and the screenshots of Django 5.2.8's docs; the corpus is not committed: this script downloads the
source distribution from PyPI (``pip download --no-deps --no-binary :all: django==5.2.8``) and
copies its ``docs/`` pages (reStructuredText, ``.txt``) and screenshots (``_images/*.png``)
into corpus/django-docs/.

Every answer is checked against the text of the file it is said to be in (for a screenshot,
against the text typed in from looking at it), so a question cannot claim a fact the page
does not state. Run: ``python eval/datasets/build_django_docs.py [--sdist PATH]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from build_common import build, ocr_rows, unanswerable_rows  # beside this file
from django_docs_cases import MIXED, SCREENSHOT, TEXT, UNANSWERABLE
from django_docs_screens import SCREENS

VERSION = "5.2.8"
CORPUS = "corpus/django-docs"  # relative to this folder, where the JSONL lives
SKIP_DIRS = {"_theme", "_ext", "man"}


def _norm(s: str) -> str:
    return " ".join(s.replace("``", "").replace("\u2019", "'").lower().split())


def fetch(sdist: Path | None, dest: Path) -> None:
    """Unpack the docs of the Django source distribution into ``dest``."""
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                            "--no-binary", ":all:", f"django=={VERSION}", "-d", tmp],
                           check=True)
            sdist = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        docs = next(Path(tmp).glob("*/docs"))
        if dest.exists():
            shutil.rmtree(dest)
        for path in sorted(docs.rglob("*")):
            rel = path.relative_to(docs)
            if path.is_dir() or SKIP_DIRS & set(rel.parts):
                continue
            if path.suffix == ".txt" or (path.suffix == ".png" and "_images" in rel.parts):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest / rel)


def cases(corpus: Path) -> list[dict]:
    out: list[dict] = []
    problems = []

    def check(answers: list[str], text: str, where: str) -> None:
        body = _norm(text)
        if not any(_norm(a) in body for a in answers):
            problems.append(f"{where}: none of {answers} found")

    for i, (q, answers, page) in enumerate(TEXT, 1):
        check(answers, (corpus / page).read_text(), page)
        out.append({"id": f"text-{i:03d}", "question": q, "answers": answers,
                    "relevant": [page], "modality": "text", "corpus": CORPUS})
    for i, (q, answers, shots) in enumerate(SCREENSHOT, 1):
        shots = [shots] if isinstance(shots, str) else shots  # where two screenshots show it
        for shot in shots:
            check(answers, SCREENS[shot], shot)
        out.append({"id": f"screenshot-{i:03d}", "question": q, "answers": answers,
                    "relevant": shots, "modality": "image", "corpus": CORPUS})
    for i, (q, answers, rel) in enumerate(MIXED, 1):
        for r in rel:
            check(answers, SCREENS[r] if r in SCREENS else (corpus / r).read_text(), r)
        out.append({"id": f"mixed-{i:03d}", "question": q, "answers": answers,
                    "relevant": rel, "modality": "mixed", "corpus": CORPUS})
    out += unanswerable_rows(UNANSWERABLE, CORPUS) + ocr_rows(SCREENS, CORPUS)
    if problems:
        raise SystemExit("answers not in their pages:\n" + "\n".join(problems))
    return out


def main() -> None:
    build(__doc__, "django-docs.jsonl", CORPUS, ("sdist", f"a downloaded django-{VERSION}.tar.gz"),
          fetch, cases, lambda corpus: f"{sum(1 for _ in corpus.rglob('*.txt'))} pages, "
          f"{sum(1 for _ in corpus.rglob('*.png'))} screenshots")


if __name__ == "__main__":
    main()
