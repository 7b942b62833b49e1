"""The export cache stays bounded: entries nobody used for a while go, the cache is kept
under its size by removing the least recently used, and what this process uses stays."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from rag.embedders import cache, exports
from rag.embedders.clip import ClipEmbedder
from rag.embedders.text import SentenceTransformerEmbedder
from rag.service import RagService
from rag.settings import DEFAULT_TEXT_MODEL, Settings
from server.app import _prune_exports

DAY = 86400.0


def entry(root: Path, kind: str, key: str, size: int, age_days: float,
          compiled: bool = False) -> list[Path]:
    """A fake entry of ``size`` bytes: export, record, tokenizer (and compiled blobs), all
    last touched ``age_days`` ago."""
    paths = [root / f"{kind}-{key}.onnx", root / f"{kind}-{key}.checked",
             root / f"{kind}-{key}.tokenizer.json"]
    if compiled:
        paths.append(root / "openvino" / f"{kind}-{key}" / "1234.blob")
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * (size // len(paths)))
        t = time.time() - age_days * DAY
        os.utime(p, (t, t))
    return paths


@pytest.fixture(autouse=True)
def nothing_in_use(monkeypatch):
    monkeypatch.setattr(cache, "_IN_USE", {})


def test_entries_unused_for_longer_than_kept_go_whole(tmp_path):
    old = entry(tmp_path, "clip-image", "a" * 24, 3000, 30, compiled=True)
    recent = entry(tmp_path, "text", "b" * 24, 3000, 1)
    loose = tmp_path / "openvino" / "15094462458377938781.blob"  # an older release's layout
    loose.write_bytes(b"x" * 10)
    os.utime(loose, (time.time() - 60 * DAY,) * 2)
    stray = tmp_path / "notes.txt"  # not a cache file: never touched
    stray.write_text("mine")
    half_written = tmp_path / "tmpab12cd.onnx.tmp"  # an export a killed process left
    half_written.write_bytes(b"x")
    os.utime(half_written, (time.time() - 2 * DAY,) * 2)
    in_flight = tmp_path / "tmpef34gh.tmp.npz"  # being written now: stays
    in_flight.write_bytes(b"x")
    removed = cache.prune(tmp_path, keep_days=14, max_bytes=10**9)
    assert sorted(e.key for e in removed) == ["a" * 24, "openvino/15094462458377938781.blob"]
    assert not any(p.exists() for p in old) and not loose.exists()
    assert not (tmp_path / "openvino" / f"clip-image-{'a' * 24}").exists()
    assert all(p.exists() for p in recent) and stray.exists()
    assert not half_written.exists() and in_flight.exists()


def test_over_its_size_the_least_recently_used_go_first(tmp_path):
    oldest = entry(tmp_path, "text", "1" * 24, 3000, 5)
    middle = entry(tmp_path, "clip-text", "2" * 24, 3000, 3)
    newest = entry(tmp_path, "clip-image", "3" * 24, 3000, 1)
    removed = cache.prune(tmp_path, keep_days=14, max_bytes=6500)
    assert [e.key for e in removed] == ["1" * 24]
    assert not any(p.exists() for p in oldest)
    assert all(p.exists() for p in middle + newest)
    assert sum(e.size for e in cache.entries(tmp_path)) <= 6500


def test_what_this_process_uses_stays_and_its_stamp_holds(tmp_path):
    paths = entry(tmp_path, "text", "c" * 24, 3000, 30)
    exports.remember(paths[0], worst=0.99999)  # a record of this very file
    made = paths[0].stat().st_mtime_ns
    cache.used(paths[0])
    assert paths[0].stat().st_mtime_ns == made  # the export's own time is its stamp
    assert exports.checked(paths[0]) == pytest.approx(0.99999)
    assert time.time() - paths[1].stat().st_mtime < 60  # its record says: used now
    assert cache.prune(tmp_path, keep_days=14, max_bytes=0) == []
    assert all(p.exists() for p in paths)


def test_a_quick_start_marks_its_exports_used_and_a_server_prunes_the_rest(
        tiny_clip_dir, tmp_path):
    cache_dir = tmp_path / "cache"
    SentenceTransformerEmbedder(DEFAULT_TEXT_MODEL, "cpu", cache_dir=cache_dir).question_encoder()
    ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=cache_dir).question_encoder()
    month_ago = (time.time() - 30 * DAY,) * 2
    for onnx_file in cache_dir.glob("*.onnx"):  # made a month ago, its record says so too
        record = json.loads(onnx_file.with_suffix(".checked").read_text())
        os.utime(onnx_file, month_ago)
        onnx_file.with_suffix(".checked").write_text(
            json.dumps(record | {"stamp": exports._stamp(onnx_file)}))
    for p in cache_dir.rglob("*"):  # and last used a month ago
        os.utime(p, month_ago)
    foreign = entry(cache_dir, "clip-text", "d" * 24, 100, 30)  # another model's, as old
    cache._IN_USE.clear()  # a new process
    settings = Settings(data_dir=tmp_path / "data", clip_model=str(tiny_clip_dir),
                        device="cpu", cache_dir=cache_dir, answer_vectors="model")
    svc = RagService.from_settings(settings)
    svc.warm_up()
    assert not svc.parts.text._loaded  # a quick start, from the cached exports
    assert len(cache.in_use()) == 2  # the text model's and CLIP's question encoders
    stop = threading.Event()
    stop.set()  # one pass, as a server makes at its start
    _prune_exports(settings, stop)
    assert not any(p.exists() for p in foreign)
    left = {e.key for e in cache.entries(cache_dir)}
    assert left == cache.in_use()
