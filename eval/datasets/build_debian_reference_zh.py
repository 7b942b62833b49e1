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

import argparse
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from debian_reference_zh_cases import CHINESE, ENGLISH, UNANSWERABLE  # beside this file

HERE = Path(__file__).parent
PACKAGE = "debian-reference-zh-cn"
CORPUS = "corpus/debian-reference-zh"  # relative to this folder, where the JSONL lives


def _flat(s: str) -> str:
    """Text without tags or white space, lower case: how an answer is looked for in a page
    (Chinese has no spaces; HTML wraps lines anywhere)."""
    s = re.sub(r"<script.*?</script>|<style.*?</style>", "", s, flags=re.S)
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", s))).lower()


def fetch(deb: Path | None, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if deb is None:
            subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, check=True)
            deb = next(Path(tmp).glob(f"{PACKAGE}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{tmp}/x"], check=True)
        pages = sorted(Path(tmp, "x/usr/share/debian-reference").glob("*.zh-cn.html"))
        if not pages:
            raise SystemExit(f"no HTML pages in {deb}")
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for page in pages:
            shutil.copy2(page, dest / page.name)


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
    for i, q in enumerate(UNANSWERABLE, 1):
        out.append({"id": f"unanswerable-{i:03d}", "question": q, "unanswerable": True,
                    "modality": "text", "corpus": CORPUS})
    if problems:
        raise SystemExit("answers not in their pages:\n" + "\n".join(problems))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deb", type=Path, help=f"a downloaded {PACKAGE}_*.deb")
    p.add_argument("--questions-only", action="store_true",
                   help="rewrite the JSONL from an already fetched corpus")
    args = p.parse_args()
    corpus = HERE / CORPUS
    if not args.questions_only:
        fetch(args.deb, corpus)
    rows = cases(corpus)
    with open(HERE / "debian-reference-zh.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} cases; corpus {corpus}: {sum(1 for _ in corpus.glob('*.html'))} pages")


if __name__ == "__main__":
    main()
