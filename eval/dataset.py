"""Evaluation datasets: JSONL, one case per line.

Fields: ``id`` (unique), ``question``; optional ``image`` (a path, relative to the dataset
file), ``answers`` (accepted answers), ``relevant`` (sources, ``folder/file`` tails or item
ids that should be retrieved), ``modality`` (text | image | mixed), ``corpus`` (a folder,
relative to the dataset file, ingested before the run), ``unanswerable`` (true when the
knowledge base does not hold the answer), ``ocr_text`` (the true text of the image),
``group`` (the report's group, when not the modality), ``ask`` (false: only measure the
OCR of the image)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InvalidInput

MODALITIES = ("text", "image", "mixed")


@dataclass
class Case:
    id: str
    question: str
    image: Path | None = None
    answers: list[str] = field(default_factory=list)
    relevant: list[str] = field(default_factory=list)
    modality: str = "text"
    corpus: Path | None = None
    unanswerable: bool = False
    ocr_text: str | None = None
    group: str | None = None  # the report's group; default: unanswerable, else the modality
    ask: bool = True  # False: only the image's OCR is measured, nothing is asked


def load_dataset(path: str | Path, limit: int | None = None) -> list[Case]:
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise InvalidInput(f"cannot read dataset {path}: {e.strerror or e}") from e
    cases: list[Case] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"{where}: not valid JSON ({e.msg})") from e
        if not isinstance(raw, dict) or not raw.get("id") or "question" not in raw:
            raise InvalidInput(f"{where}: a case needs 'id' and 'question'")
        if raw["id"] in seen:
            raise InvalidInput(f"{where}: duplicate id {raw['id']!r}")
        seen.add(raw["id"])
        modality = raw.get("modality") or ("mixed" if raw.get("image") and raw["question"]
                                           else "image" if raw.get("image") else "text")
        if modality not in MODALITIES:
            raise InvalidInput(f"{where}: modality must be one of {', '.join(MODALITIES)}")
        image = path.parent / raw["image"] if raw.get("image") else None
        if image is not None and not image.is_file():
            raise InvalidInput(f"{where}: image {raw['image']!r} not found")
        corpus = path.parent / raw["corpus"] if raw.get("corpus") else None
        if corpus is not None and not corpus.is_dir():
            hint = (f" (build it: python {path.parent}/build_{path.stem.replace('-', '_')}.py)"
                    if (path.parent / f"build_{path.stem.replace('-', '_')}.py").is_file()
                    else "")
            raise InvalidInput(f"{where}: corpus folder {raw['corpus']!r} not found{hint}")
        for key in ("answers", "relevant"):
            if not isinstance(raw.get(key, []), list):
                raise InvalidInput(f"{where}: {key!r} must be a list")
        cases.append(Case(
            id=str(raw["id"]), question=str(raw["question"]), image=image,
            answers=[str(a) for a in raw.get("answers", [])],
            relevant=[str(r) for r in raw.get("relevant", [])], modality=modality,
            corpus=corpus, unanswerable=bool(raw.get("unanswerable", False)),
            ocr_text=raw.get("ocr_text"), group=raw.get("group"),
            ask=bool(raw.get("ask", True))))
        if limit and len(cases) >= limit:
            break
    if not cases:
        raise InvalidInput(f"dataset {path} has no cases")
    return cases
