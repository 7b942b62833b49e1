"""Two `mmrag serve` replicas over shared engines (a Chroma server, PostgreSQL, S3 from
moto), as processes on 127.0.0.1: whatever one replica does, the other sees; a replica killed
in the middle of a job loses nothing; two `mmrag ingest` processes split the work."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.manifest import Manifest
from rag.store.chroma import ChromaStore
from rag.store.db import Database

from ..engines import free_port
from ..helpers import png_bytes

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
WORDS = ("policy invoice laptop badge parking travel meeting salary holiday security printer "
         "office budget contract delivery customer report quarter training network").split()


def text_file(i: int, paragraphs: int = 4) -> bytes:
    paras = [" ".join(WORDS[(i * 7 + j * 3 + k) % len(WORDS)] for k in range(50)) + "."
             for j in range(paragraphs)]
    return (f"# Note {i}\n\n" + "\n\n".join(paras)).encode()


@pytest.fixture
def engines(postgres, s3, chroma_server, tiny_clip_dir, tmp_path):
    env = {**os.environ, **s3.env,
           "MMRAG_CHROMA_URL": chroma_server.url, "MMRAG_DATABASE_URL": postgres.database(),
           "MMRAG_BLOBS_URL": f"s3://{s3.bucket()}/images", "MMRAG_CLIP_MODEL": str(tiny_clip_dir),
           "MMRAG_DEVICE": "cpu", "MMRAG_INGEST__OCR": "off", "MMRAG_HEARTBEAT_SECONDS": "0.5",
           "MMRAG_STALE_SECONDS": "3", "HF_HUB_OFFLINE": "1",
           "MMRAG_INGEST__GROUP_CHUNKS": "24"}  # written a few files at a time
    env.pop("MMRAG_DATA_DIR", None)
    return env


class Replica:
    def __init__(self, env: dict, data_dir: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mmrag", "serve", "--port", str(self.port)],
            env={**env, "MMRAG_DATA_DIR": str(data_dir)}, cwd=ROOT,
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"replica not ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def job(self, job_id: str) -> dict:
        r = httpx.get(f"{self.url}/v1/jobs/{job_id}", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()


def until(cond, timeout: float = 120, every: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(every)
    raise AssertionError("timed out")


def consistent(env: dict) -> tuple[int, int]:
    """No duplicates, no orphans, nothing missing: every manifest row done, and the store's
    items are exactly what the rows count. Returns (documents, text items)."""
    docs = Manifest(Database(env["MMRAG_DATABASE_URL"])).list("default")
    assert docs and all(d.status == "done" for d in docs)
    store = ChromaStore(url=env["MMRAG_CHROMA_URL"])
    texts, _ = store.get("default", "text")
    images, _ = store.get("default", "image")
    by_id = {d.doc_id: d for d in docs}
    assert all(it.metadata["doc_id"] in by_id for it in texts + images)  # no orphans
    assert len(texts) == len({it.id for it in texts}) == sum(d.chunks for d in docs)
    assert len(images) == sum(d.images for d in docs)
    return len(docs), len(texts)


def test_any_replica_answers_for_what_another_did(engines, tmp_path):
    a, b = Replica(engines, tmp_path / "a", "a"), Replica(engines, tmp_path / "b", "b")
    try:
        a.wait_ready()
        b.wait_ready()
        red = png_bytes((220, 20, 20), (64, 48))
        r = httpx.post(a.url + "/v1/ingest", timeout=120, files=[
            ("files", ("policy.md", b"# Travel policy\n\nSubmit expense claims within 30 "
                                    b"days of the end of the trip.")),
            ("files", ("red.png", red))])
        assert r.status_code == 200 and r.json()["images"] == 1, r.text
        r = httpx.post(a.url + "/v1/ingest", timeout=60, data={"background": "true"},
                       files=[("files", (f"note{i}.md", text_file(i))) for i in range(5)])
        assert r.status_code == 202
        job_id = r.json()["job_id"]
        done = until(lambda: (j := b.job(job_id))["status"] == "done" and j)  # asked of B
        assert done["files_done"] == 5 and done["chunks_written"] >= 5

        listed = {replica: {d["source"] for d in httpx.get(
            replica.url + "/v1/documents", timeout=30).json()["documents"]} for replica in (a, b)}
        assert listed[a] == listed[b] == {"policy.md", "red.png"} | {
            f"note{i}.md" for i in range(5)}

        answer = httpx.post(b.url + "/v1/query", timeout=60, json={
            "question": "How many days do I have to submit expense claims?"}).json()
        assert answer["citations"][0]["source"] == "policy.md"
        pictures = httpx.post(b.url + "/v1/query", timeout=60, json={  # search by the image
            "image": base64.b64encode(red).decode()}).json()
        assert pictures["hits"][0]["channel"] == "exact"
        link = pictures["hits"][0]["image_url"]
        for replica in (b, a):  # the copy is in the shared blob store, not on A's disk
            got = httpx.get(replica.url + link[link.index("/v1/"):], timeout=30)
            assert got.status_code == 200 and got.content == red

        policy = next(d for d in httpx.get(b.url + "/v1/documents", timeout=30).json()[
            "documents"] if d["source"] == "policy.md")
        assert httpx.delete(f"{b.url}/v1/documents/{policy['id']}", timeout=60).status_code == 200
        assert "policy.md" not in {d["source"] for d in httpx.get(
            a.url + "/v1/documents", timeout=30).json()["documents"]}
        again = httpx.post(a.url + "/v1/query", timeout=60, json={
            "question": "How many days do I have to submit expense claims?"}).json()
        assert all(c["source"] != "policy.md" for c in again["citations"])
        consistent(engines)
    finally:
        a.kill()
        b.kill()


def test_a_replica_killed_mid_job_loses_nothing(engines, tmp_path):
    a, b = Replica(engines, tmp_path / "a", "a"), Replica(engines, tmp_path / "b", "b")
    files = [("files", (f"doc{i:02d}.md", text_file(i, 12))) for i in range(60)]
    try:
        a.wait_ready()
        b.wait_ready()
        r = httpx.post(a.url + "/v1/ingest", timeout=60, data={"background": "true"},
                       files=files)
        job_id = r.json()["job_id"]
        until(lambda: b.job(job_id)["files_done"] >= 3, every=0.02)
        a.kill()  # kill -9 in the middle of the job
        failed = until(lambda: (j := b.job(job_id))["status"] == "failed" and j, timeout=30)
        assert failed["files_done"] < 60 and "stopped before it finished" in failed["message"]
        r = httpx.post(b.url + "/v1/ingest", timeout=600, files=files)  # the same upload
        assert r.status_code == 200, r.text
        statuses = {f["status"] for f in r.json()["files"]}
        assert statuses <= {"ingested", "replaced", "unchanged"}, r.json()["files"]
        assert consistent(engines)[0] == 60
    finally:
        a.kill()
        b.kill()


def test_two_ingest_processes_split_the_work(engines, tmp_path):
    """Overlapping folders, at once: every file ingested exactly once."""
    shared, only_a, only_b = (tmp_path / n for n in ("shared", "only-a", "only-b"))
    for folder, start, n in ((shared, 0, 24), (only_a, 100, 4), (only_b, 200, 4)):
        folder.mkdir()
        for i in range(start, start + n):
            (folder / f"f{i}.md").write_bytes(text_file(i, 6))
    env = {**engines, "MMRAG_DATA_DIR": str(tmp_path / "cli")}
    runs = [subprocess.Popen([sys.executable, "-m", "mmrag", "ingest", "-q", str(shared),
                              str(extra)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             encoding="utf-8") for extra in (only_a, only_b)]
    outs = [p.communicate(timeout=600) for p in runs]
    assert all(p.returncode == 0 for p in runs), [e[-2000:] for _, e in outs]

    def count(out: str, status: str) -> int:
        line = next((x for x in out.splitlines() if x.strip().startswith(status)), "")
        return int(line.split()[1]) if line else 0

    ingested = sum(count(out, "ingested") for out, _ in outs)
    assert ingested == 32  # each of the 24 shared files by one process only
    assert sum(count(out, "claimed") + count(out, "unchanged") for out, _ in outs) == 24
    assert consistent(engines)[0] == 32
