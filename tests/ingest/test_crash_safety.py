"""kill -9 a real ingestion at several points; running it again must end with a complete,
consistent store: no duplicates, no orphan vectors, nothing half-done reported as done."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.manifest import Manifest
from rag.store.chroma import ChromaStore
from rag.store.db import Database

from ..helpers import save_image

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
WORDS = ("policy invoice laptop badge parking travel meeting salary holiday security printer "
         "office budget contract delivery customer report quarter training network").split()


def write_corpus(folder: Path, n: int = 40) -> None:
    folder.mkdir()
    for i in range(n):
        paras = [" ".join(WORDS[(i * 7 + j * 3 + k) % len(WORDS)] for k in range(60)) + "."
                 for j in range(5)]
        (folder / f"doc{i:02d}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(paras))
    for i in range(4):
        save_image(folder / f"pic{i}.png", (40 * i, 200 - 40 * i, 90), pattern=i)


def start(env: dict, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mmrag", "ingest", "-q", str(folder)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def kill_when(proc: subprocess.Popen, manifest: Path, writing: bool = False,
              done_at_least: int = 0, timeout: float = 180) -> bool:
    """SIGKILL the process when the manifest shows the wanted state; False if it finished
    first."""
    deadline = time.time() + timeout
    while proc.poll() is None and time.time() < deadline:
        if manifest.exists():
            try:
                with sqlite3.connect(f"file:{manifest}?mode=ro", uri=True, timeout=1) as c:
                    rows = dict(c.execute(
                        "SELECT status, COUNT(*) FROM documents GROUP BY status").fetchall())
            except sqlite3.Error:
                rows = {}
            if (writing and rows.get("writing")) or (done_at_least and
                                                     rows.get("done", 0) >= done_at_least):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
        time.sleep(0.01)
    proc.wait(timeout=60)
    return False


def test_kill_minus_nine_then_rerun_gives_a_consistent_store(tmp_path, tiny_clip_dir):
    folder = tmp_path / "kb"
    write_corpus(folder)
    data = tmp_path / "data"
    env = {**os.environ, "MMRAG_DATA_DIR": str(data), "MMRAG_CLIP_MODEL": str(tiny_clip_dir),
           "MMRAG_DEVICE": "cpu", "MMRAG_INGEST__GROUP_CHUNKS": "6",
           "MMRAG_INGEST__OCR": "off", "HF_HUB_OFFLINE": "1"}
    manifest = data / "manifest.sqlite3"
    killed = [kill_when(start(env, folder), manifest, writing=True),
              kill_when(start(env, folder), manifest, done_at_least=12)]
    (folder / "doc03.md").write_text("# Document 3, second edition\n\nEntirely new text here.")
    killed.append(kill_when(start(env, folder), manifest, writing=True))
    assert sum(killed) >= 2, "the ingestion finished before it could be killed"

    final = subprocess.run([sys.executable, "-m", "mmrag", "ingest", "-q", str(folder)],
                           env=env, cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                           timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]

    docs = Manifest(Database(f"sqlite:///{manifest}")).list("default")
    files = sorted(p for p in folder.iterdir())
    assert len(docs) == len(files) and all(d.status == "done" for d in docs)
    store = ChromaStore(data / "chroma")
    text_items, _ = store.get("default", "text")
    image_items, _ = store.get("default", "image")
    by_doc = {d.doc_id: d for d in docs}
    for modality, items in (("text", text_items), ("image", image_items)):
        for it in items:  # no orphans, no stale versions
            doc = by_doc.get(it.metadata["doc_id"])
            assert doc is not None, f"orphan {modality} item {it.id}"
            assert it.metadata["sha256"] == doc.sha256, f"stale {modality} item {it.id}"
    assert len(text_items) == sum(d.chunks for d in docs)  # no duplicates, nothing missing
    assert len(image_items) == sum(d.images for d in docs) == 4
    for d in docs:  # what is stored is what is on disk now
        assert d.sha256 == hashlib.sha256(Path(d.source).read_bytes()).hexdigest()
    doc3 = next(d for d in docs if d.source.endswith("doc03.md"))
    chunks = [it.document for it in text_items if it.metadata["doc_id"] == doc3.doc_id]
    assert chunks and all("second edition" in c or "Entirely new" in c for c in chunks)
