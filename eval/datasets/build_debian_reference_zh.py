"""Builds eval/datasets/debian-reference-zh.jsonl and fetches its corpus, the Simplified
Chinese Debian Reference (Debian's ``debian-reference-zh-cn`` package, written by Debian's
authors and translators, not by us). The questions (debian_reference_zh_cases.py) were
written by reading its pages: facts in prose, lists and tables, some asked in English, and
on-topic questions the book does not answer. The corpus is not committed: this script takes
the package with ``apt-get download`` (or ``--deb PATH``), unpacks it with ``dpkg-deb -x`` and
copies its HTML pages into corpus/debian-reference-zh/.

Every answer is checked against the text of the page it is said to be in. Run:
``python eval/datasets/build_debian_reference_zh.py [--deb PATH]``."""

from __future__ import annotations

import html
import re
from pathlib import Path

from build_common import build, copy_pages, unanswerable_rows, unpacked_deb  # beside this file
from debian_reference_zh_cases import CHINESE, ENGLISH, UNANSWERABLE

PACKAGE = "debian-reference-zh-cn"
CORPUS = "corpus/debian-reference-zh"  # relative to this folder, where the JSONL lives


def _flat(s: str) -> str:
    """Text without tags or white space, lower case: how an answer is looked for in a page
    (Chinese has no spaces; HTML wraps lines anywhere)."""
    s = re.sub(r"<script.*?</script>|<style.*?</style>", "", s, flags=re.S)
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", s))).lower()


def fetch(deb: Path | None, dest: Path) -> None:
    with unpacked_deb(PACKAGE, deb) as unpacked:
        pages = sorted(Path(unpacked, "usr/share/debian-reference").glob("*.zh-cn.html"))
        copy_pages(pages, dest, str(deb or PACKAGE))


def cases(corpus: Path) -> list[dict]:
    out: list[dict] = []
    problems = []
    for group, rows in (("zh", CHINESE), ("en-on-zh", ENGLISH)):
        for i, (q, answers, page) in enumerate(rows, 1):
            text = _flat((corpus / page).read_text(encoding="utf-8"))
            if not any(_flat(a) in text for a in answers):
                problems.append(f"{page}: none of {answers} found")
            out.append({"id": f"{group}-{i:03d}", "question": q, "answers": answers,
                        "relevant": [page], "modality": "text", "group": group,
                        "corpus": CORPUS})
    out += unanswerable_rows(UNANSWERABLE, CORPUS)
    if problems:
        raise SystemExit("answers not in their pages:\n" + "\n".join(problems))
    return out


def main() -> None:
    build(__doc__, "debian-reference-zh.jsonl", CORPUS,
          ("deb", f"a downloaded {PACKAGE}_*.deb"), fetch, cases,
          lambda corpus: f"{sum(1 for _ in corpus.glob('*.html'))} pages")


if __name__ == "__main__":
    main()
