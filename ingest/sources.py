"""What ingestion takes in and gives back: sources (files on disk or uploaded bytes), the
walk over folders, and per-file results with the run's report."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Source:
    """A file to ingest: a path on disk, or uploaded bytes with a name."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    error: str | None = None  # set by the walker for paths that cannot be read


@dataclass
class FileResult:
    source: str
    status: str  # ingested | replaced | unchanged | claimed (by another process) | skipped | failed
    chunks: int = 0
    images: int = 0
    reason: str = ""
    doc_id: str = ""


@dataclass
class IngestReport:
    collection: str
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for f in self.files if f.status in statuses)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("ingested", "replaced"))

    @property
    def images(self) -> int:
        return sum(f.images for f in self.files if f.status in ("ingested", "replaced"))

    @property
    def problems(self) -> list[FileResult]:
        return [f for f in self.files if f.status in ("skipped", "failed")]


def walk(paths: Iterable[str | Path]) -> Iterator[Source]:
    """Files under the given paths, in a stable order; hidden files and folders are skipped,
    symbolic links to folders are not followed (no loops)."""
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        f = Path(root) / name
                        yield Source(str(f.resolve()), path=f)
        elif p.is_file():
            yield Source(str(p.resolve()), path=p)
        else:
            yield Source(str(p), error="no such file or folder")
