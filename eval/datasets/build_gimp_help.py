"""Builds eval/datasets/gimp-help.jsonl and fetches its corpus, the dialogs chapter of the GIMP
2.10 user manual in English (Debian's ``gimp-help-en`` package, written by the GIMP
documentation team, not by us): 35 HTML pages and the pictures they show, most of them
screenshots of dialogs. The questions (gimp_help_cases.py) were written by reading the pages
and looking at the screenshots; the text of 15 screenshots was typed in by hand
(gimp_help_screens.py). The corpus is not committed: this script takes the package with
``apt-get download`` (or ``--deb PATH``), unpacks it with ``dpkg-deb -x`` and copies the
chapter's pages, with the images they refer to at the same relative paths, into
corpus/gimp-help/.

Every answer is checked against the page it is said to be in or the typed-in text of its
screenshot, and a screenshot-only answer is checked to be absent from the pages that show
that screenshot. Run: ``python eval/datasets/build_gimp_help.py [--deb PATH]``."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from build_common import (  # beside this file
    build,
    copy_pages,
    ocr_rows,
    unanswerable_rows,
    unpacked_deb,
)
from gimp_help_cases import MIXED, SCREENSHOT, TEXT, UNANSWERABLE
from gimp_help_screens import SCREENS

PACKAGE = "gimp-help-en"
CORPUS = "corpus/gimp-help"  # relative to this folder, where the JSONL lives
HELP = "usr/share/gimp/2.0/help/en"
IMAGE = re.compile(r"<img\b[^>]*?\bsrc=\"(images/[^\"]+)\"", re.I)


def _flat(s: str) -> str:
    """Visible text of a page (or a typed-in text) without white space, lower case: how an
    answer is looked for (the pages split keys as ``<kbd>Ctrl</kbd>+<kbd>Y</kbd>``)."""
    s = re.sub(r"<script.*?</script>|<style.*?</style>", "", s, flags=re.S)
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", " ", s))).lower()


def chapter(root: Path) -> list[Path]:
    """The pages of the dialogs chapter: every page whose name says it describes a dialog."""
    return sorted(p for p in root.glob("*.html") if "dialog" in p.name)


def fetch(deb: Path | None, dest: Path) -> None:
    with unpacked_deb(PACKAGE, deb) as unpacked:
        root = unpacked / HELP
        pages = chapter(root)
        copy_pages(pages, dest, str(deb or PACKAGE))
        for page in pages:
            for ref in IMAGE.findall(page.read_text(encoding="utf-8")):
                if (root / ref).is_file() and not (dest / ref).exists():
                    (dest / ref).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(root / ref, dest / ref)


def _showing(corpus: Path, shot: str) -> list[Path]:
    return [p for p in corpus.glob("*.html") if f'src="{shot}"' in p.read_text(encoding="utf-8")]


def cases(corpus: Path) -> list[dict]:
    out: list[dict] = []
    problems = []

    def text_of(where: str) -> str:
        return _flat(SCREENS[where] if where in SCREENS else
                     (corpus / where).read_text(encoding="utf-8"))

    def check(answers: list[str], where: str) -> None:
        if not any(_flat(a) in text_of(where) for a in answers):
            problems.append(f"{where}: none of {answers} found")

    def add(group: str, modality: str, rows: list, i0: int = 1) -> None:
        for i, (q, answers, where) in enumerate(rows, i0):
            rel = [where] if isinstance(where, str) else where
            for r in rel[-1:] if group == "mixed" else rel:  # mixed: the figure holds it
                check(answers, r)
            if group == "screenshot":
                for page in _showing(corpus, where):
                    if any(_flat(a) in _flat(page.read_text(encoding="utf-8"))
                           for a in answers):
                        problems.append(f"{page.name} says {answers}: not screenshot-only")
            out.append({"id": f"{group}-{i:03d}", "question": q, "answers": answers,
                        "relevant": rel, "modality": modality, "group": group,
                        "corpus": CORPUS})

    add("text", "text", TEXT)
    add("screenshot", "image", SCREENSHOT)
    add("mixed", "mixed", MIXED)
    problems += [f"{shot}: not in the corpus" for shot in SCREENS
                 if not (corpus / shot).is_file()]
    out += unanswerable_rows(UNANSWERABLE, CORPUS) + ocr_rows(SCREENS, CORPUS)
    if problems:
        raise SystemExit("answers not where they are said to be:\n" + "\n".join(problems))
    return out


def summary(corpus: Path) -> str:
    pictures = sum(1 for p in corpus.rglob("*") if p.suffix in (".png", ".jpg"))
    return f"{sum(1 for _ in corpus.glob('*.html'))} pages, {pictures} pictures"


def main() -> None:
    build(__doc__, "gimp-help.jsonl", CORPUS, ("deb", f"a downloaded {PACKAGE}_*.deb"), fetch,
          cases, summary)


if __name__ == "__main__":
    main()
