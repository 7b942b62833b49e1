"""What the dataset builders beside this file share: a Debian package taken and unpacked,
the rows of unanswerable questions and of typed-in screenshot texts, and the command line
that fetches a corpus and writes its JSONL."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).parent


@contextmanager
def unpacked_deb(package: str, deb: Path | None) -> Iterator[Path]:
    """The files of a Debian package (``deb``, or taken with ``apt-get download``), unpacked
    with ``dpkg-deb -x`` into a temporary folder for the duration."""
    with tempfile.TemporaryDirectory() as tmp:
        if deb is None:
            subprocess.run(["apt-get", "download", package], cwd=tmp, check=True)
            deb = next(Path(tmp).glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{tmp}/x"], check=True)
        yield Path(tmp, "x")


def copy_pages(pages: list[Path], dest: Path, source: str) -> None:
    """``dest`` emptied, then the pages copied into it; none found is an error."""
    if not pages:
        raise SystemExit(f"no pages in {source}")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for page in pages:
        shutil.copy2(page, dest / page.name)


def unanswerable_rows(questions: list[str], corpus: str) -> list[dict]:
    return [{"id": f"unanswerable-{i:03d}", "question": q, "unanswerable": True,
             "modality": "text", "corpus": corpus} for i, q in enumerate(questions, 1)]


def ocr_rows(screens: dict[str, str], corpus: str) -> list[dict]:
    """Nothing asked: the OCR of each screenshot measured against its typed-in text."""
    return [{"id": f"ocr-{i:03d}", "question": "", "image": f"{corpus}/{shot}",
             "relevant": [shot], "modality": "image", "ocr_text": truth, "group": "ocr",
             "ask": False, "corpus": corpus}
            for i, (shot, truth) in enumerate(sorted(screens.items()), 1)]


def build(doc: str, jsonl: str, corpus: str, source: tuple[str, str],
          fetch: Callable[[Path | None, Path], None], cases: Callable[[Path], list[dict]],
          summary: Callable[[Path], str]) -> None:
    """The builder's command line: fetch the corpus (from ``--FLAG PATH`` when given, see
    ``source``: the flag and its help) unless ``--questions-only``, then write the JSONL."""
    flag, helptext = source
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument(f"--{flag}", type=Path, help=helptext)
    p.add_argument("--questions-only", action="store_true",
                   help="rewrite the JSONL from an already fetched corpus")
    args = p.parse_args()
    folder = HERE / corpus
    if not args.questions_only:
        fetch(getattr(args, flag), folder)
    rows = cases(folder)
    with open(HERE / jsonl, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} cases; corpus {folder}: {summary(folder)}")
