"""A corpus of bad files, each with the outcome a user should see; good files beside them go
in, and what was stored before survives."""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ingest.pipeline import Ingestor, Source
from rag.schema import Query

pytestmark = pytest.mark.slow


def bomb_png(w: int = 100_000, h: int = 100_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def png() -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((120, 80), 60).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inside.txt", "Archives are not unpacked.")
    return buf.getvalue()


CORPUS = {
    # name: (bytes, expected status, words expected in the reason)
    "empty.txt": (b"", "skipped", "empty file"),
    "junk.txt": (bytes(range(256)) * 20, "skipped", "binary data"),
    "photo-named.txt": (png(), "skipped", "binary data"),
    "text-named.png": (b"this is text, not a picture", "skipped", "not a recognisable image"),
    "truncated.png": (png()[:300], "skipped", "corrupt or truncated image"),
    "bomb.png": (bomb_png(), "skipped", "decompression bomb"),
    "truncated.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "skipped", "PDF"),
    "archive.zip": (zip_bytes(), "skipped", "unsupported file type '.zip'"),
    "no-extension": (b"plain words", "skipped", "unsupported file type"),
    "latin1.txt": ("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e is served on Fridays. ".encode(
        "cp1252") * 10, "ingested", ""),
    "giant-line.txt": ((" ".join(f"w{i % 997}" for i in range(20_000))).encode(), "ingested",
                       ""),
    "whitespace.md": (b"   \n\n\t  \n", "skipped", "only whitespace"),
    "good.md": (b"# Canteen\n\nThe canteen serves soup every Thursday.", "ingested", ""),
}


def test_every_bad_file_gets_its_reason_and_the_rest_goes_in(service, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, (data, _, _) in CORPUS.items():
        (folder / name).write_bytes(data)
    ingestor = Ingestor(service)
    earlier = b"# Earlier\n\nStored before the bad batch: the library opens at 8."
    before = ingestor.ingest([Source("earlier.md", data=earlier)])
    assert before.files[0].status == "ingested"
    report = ingestor.ingest_paths([folder])
    got = {Path(f.source).name: f for f in report.files}
    assert set(got) == set(CORPUS)
    for name, (_, status, reason) in CORPUS.items():
        assert got[name].status == status, (name, got[name])
        assert reason.lower() in got[name].reason.lower(), (name, got[name].reason)
    assert service.answer(Query(text="What does the canteen serve on Thursday?")).found
    earlier_doc = next(d for d in ingestor.documents() if d.source == "earlier.md")
    items, _ = service.parts.store.get("default", "text", where={"doc_id": earlier_doc.doc_id})
    assert len(items) == earlier_doc.chunks >= 1  # what was stored before is not lost
    latin1 = next(d for d in ingestor.documents() if d.source.endswith("latin1.txt"))
    items, _ = service.parts.store.get("default", "text", where={"doc_id": latin1.doc_id})
    assert "Café crème brûlée" in items[0].document  # decoded, not mangled


def test_upload_names_with_directories_are_cut_to_the_file_name(tmp_path):
    from server.routes import _upload_name

    assert _upload_name("../../etc/passwd.md") == "passwd.md"
    assert _upload_name("C:\\Users\\me\\notes.txt") == "notes.txt"
    for bad in ("..", "/", "", "a\x00b.md"):
        with pytest.raises(Exception, match="unusable file name"):
            _upload_name(bad)
