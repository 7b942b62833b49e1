"""The export cache's bounds: what a process uses is marked, what nobody used for a while goes.

Every file of the cache is named ``<kind>-<key>...`` (``exports.fingerprint``'s key): the
export, its record, its tokenizer, the text model's word vectors, and the folder of OpenVINO's
compiled blobs of that export. Files of one key are one entry. Using an entry (opening an
export, reading word vectors) marks it used: its record's time is set to now (never the
export's own, which its record's stamp names). ``prune`` removes entries that this process
does not use and nobody used for ``keep_days``, then, while the cache is over ``max_bytes``,
the least recently used of the others. A model changed, a library upgraded: its old exports
are gone after ``keep_days``, and the cache never holds much more than the configurations in
use."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[a-z]+(?:-[a-z]+)*-([0-9a-f]{24})(?:\.|$)")
_IN_USE: dict[str, Path] = {}  # key -> the file marking its use, for what this process uses
_LOCK = threading.Lock()


def key_of(path: Path) -> str | None:
    """The cache key in a cache file's (or OpenVINO folder's) name, or None."""
    m = _NAME.match(path.name)
    return m.group(1) if m else None


def used(path: Path) -> None:
    """Mark the entry of the cache file at ``path`` used, now, by this process."""
    key = key_of(path)
    if key is None:
        return
    mark = path.with_suffix(".checked") if path.suffix == ".onnx" else path
    with _LOCK:
        _IN_USE[key] = mark
    _touch(mark)


def _touch(mark: Path) -> None:
    with contextlib.suppress(OSError):  # no record yet: the export's time says when it was made
        os.utime(mark)


def in_use() -> set[str]:
    """The keys this process uses, marked used again now: a server that runs for weeks
    keeps its entries from another process's ``prune``."""
    with _LOCK:
        marks = dict(_IN_USE)
    for mark in marks.values():
        _touch(mark)
    return set(marks)


@dataclass
class Entry:
    key: str
    paths: list[Path] = field(default_factory=list)
    size: int = 0
    last_used: float = 0.0


def entries(cache_dir: Path) -> list[Entry]:
    """The cache's entries, least recently used first. Compiled blobs of an export sit in
    ``openvino/<export name>/``; loose blobs there (older releases shared one folder) are
    entries of their own, keyed by their name."""
    found: dict[str, Entry] = {}

    def add(key: str, path: Path) -> None:
        e = found.setdefault(key, Entry(key))
        e.paths.append(path)
        for f in [path] if path.is_file() else path.rglob("*"):
            try:
                st = f.stat()
            except OSError:
                continue
            if f.is_file():
                e.size += st.st_size
                e.last_used = max(e.last_used, st.st_mtime)

    if not cache_dir.is_dir():
        return []
    for path in cache_dir.iterdir():
        if (key := key_of(path)) is not None:
            add(key, path)
    compiled = cache_dir / "openvino"
    if compiled.is_dir():
        for path in compiled.iterdir():
            key = key_of(path)
            add(key if key is not None else f"openvino/{path.name}", path)
    return sorted(found.values(), key=lambda e: e.last_used)


def prune(cache_dir: Path, keep_days: float, max_bytes: int,
          now: float | None = None) -> list[Entry]:
    """Remove the entries this process does not use that nobody used for ``keep_days``, then
    the least recently used others while the cache is over ``max_bytes``, and files left
    half-written a day ago or more. Returns the entries removed."""
    now = time.time() if now is None else now
    keep = in_use()
    all_entries = entries(cache_dir)
    total = sum(e.size for e in all_entries)
    removed = []
    for e in all_entries:  # least recently used first
        if e.key in keep:
            continue
        if e.last_used < now - keep_days * 86400 or total > max_bytes:
            for path in e.paths:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            total -= e.size
            removed.append(e)
    for path in cache_dir.glob("tmp*.tmp*"):  # an export or word vectors left half-written
        with contextlib.suppress(OSError):  # by a process killed mid-write, a day ago or more
            if path.stat().st_mtime < now - 86400:
                path.unlink()
    if removed:
        log.info("export cache %s: removed %d entries (%.0f MB) not used by this process "
                 "for %g days or over %.0f MB in all", cache_dir, len(removed),
                 sum(e.size for e in removed) / 1e6, keep_days, max_bytes / 1e6)
    return removed
