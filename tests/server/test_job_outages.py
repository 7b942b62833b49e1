"""A background job on one of two replicas while the database, the Chroma server or the blob
store is cut off for 20 s (a relay in front of each engine, tests/cut.py): the job ends, done
or failed, on both replicas within 60 s of the engine's return; uploading the same files again
through the other replica ingests what failed, with no duplicate and no orphan. Before, a
database outage left the job "running" for good and its files claimed."""

from __future__ import annotations

import time

import httpx
import pytest

from ..cut import Cut
from ..helpers import png_bytes
from .test_replicas import Replica, consistent, engines, text_file, until  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.integration]
OUTAGE_S = 20
ENDED_WITHIN_S = 60


def _files(prefix: str) -> list[tuple[str, tuple[str, bytes]]]:
    files = [("files", (f"{prefix}-{i:02d}.md", text_file(i, 12))) for i in range(28)]
    for i in range(4):  # pictures among the texts: their copies go to the blob store
        picture = png_bytes((40 * i, 200 - 40 * i, 90), (64, 48))
        files.insert(8 * i + 4, ("files", (f"{prefix}-{i}.png", picture)))
    return files


def test_jobs_end_and_files_come_back_after_each_engine_outage(engines, postgres, s3,  # noqa: F811
                                                               chroma_server, tmp_path):
    cuts = {"database": Cut(postgres.port), "vector store": Cut(chroma_server.port),
            "blob store": Cut(s3.port)}
    env = {**engines,
           "MMRAG_DATABASE_URL": engines["MMRAG_DATABASE_URL"].replace(
               f":{postgres.port}/", f":{cuts['database'].port}/"),
           "MMRAG_CHROMA_URL": cuts["vector store"].url("http"),
           "AWS_ENDPOINT_URL": cuts["blob store"].url("http"),
           # longer than the outage, as in production (30 s): no replica takes the other for
           # dead, so the job's own replica must record its end
           "MMRAG_STALE_SECONDS": str(OUTAGE_S + 10)}
    a, b = Replica(env, tmp_path / "a", "a"), Replica(env, tmp_path / "b", "b")
    ingested = 0
    try:
        a.wait_ready()
        b.wait_ready()
        for engine, cut in cuts.items():
            files = _files(engine.replace(" ", "-"))
            r = httpx.post(a.url + "/v1/ingest", timeout=60, data={"background": "true"},
                           files=files)
            assert r.status_code == 202, r.text
            job_id = r.json()["job_id"]
            until(lambda: b.job(job_id)["files_read"] >= 2, every=0.02)  # noqa: B023
            cut.cut()
            time.sleep(OUTAGE_S)
            cut.restore()
            back = time.monotonic()
            for replica in (a, b):
                ended = until(lambda r=replica: (j := r.job(job_id))["status"]  # noqa: B023
                              in ("done", "failed") and j, timeout=ENDED_WITHIN_S, every=0.5)
                assert time.monotonic() - back <= ENDED_WITHIN_S, engine
            print(f"{engine}: the job ended {ended['status']} {time.monotonic() - back:.1f} s "
                  f"after the outage, {ended['files_done']} of {len(files)} files done: "
                  f"{ended['message'][:200]}")
            r = httpx.post(b.url + "/v1/ingest", timeout=600, files=files)  # the other replica
            assert r.status_code == 200, (engine, r.text)
            statuses = {f["status"] for f in r.json()["files"]}
            assert statuses <= {"ingested", "replaced", "unchanged"}, (engine, r.json()["files"])
            ingested += len(files)
            assert consistent(engines)[0] == ingested, engine
    finally:
        a.kill()
        b.kill()
        for cut in cuts.values():
            cut.close()
