"""Bounded work on the server: uploads that would merge or probe the disk are refused, an
over-limit body is a 413 however it is sent, a full ingestion queue is a 429 with Retry-After
in seconds, a busy server refuses model requests before reading them, and the job queue is
fair between collections."""

import threading
import time
from collections import deque

import httpx
import pytest

from rag.errors import QueueFull
from server.jobs import Job, Jobs

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def error_of(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_two_files_with_one_name_are_refused(http):
    files = [("files", ("policy.md", b"# A\n\nVersion one says yes.")),
             ("files", ("policy.md", b"# A\n\nVersion two says no."))]
    assert "two files named 'policy.md'" in error_of(http.post("/v1/ingest", files=files),
                                                      400)["message"]
    assert http.get("/v1/documents").json()["documents"] == []  # nothing half-stored


def test_a_document_id_is_never_a_path_on_the_server(http):
    for ref in ("~x", "~root", "tmp", "~"):
        assert "no document" in error_of(http.delete(f"/v1/documents/{ref}"), 404)["message"]


def test_a_chunked_body_over_the_limit_is_a_413(service):
    from .conftest import LiveServer

    service.settings.server.max_request_bytes = 100_000

    def body(head=b""):
        yield head
        for _ in range(40):
            yield b"x" * 10_000

    head = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\n'
    with LiveServer(service) as live, httpx.Client(base_url=live.url, timeout=30) as c:
        r = c.post("/v1/ingest", content=body(head),
                   headers={"content-type": "multipart/form-data; boundary=b"})
        assert error_of(r, 413)["code"] == "request_too_large"
        r = c.post("/v1/query", content=body(), headers={"content-type": "application/json"})
        assert error_of(r, 413)["code"] == "request_too_large"


def test_a_busy_server_refuses_before_reading_the_body(live, http):
    worker = live.server.config.app.state.worker
    worker.in_flight = worker.limit  # every place taken
    worker.held_s = 3.0
    try:
        # the body is not even JSON: a request that got as far as parsing would be a 422
        r = http.post("/v1/query", content=b"{not json",
                      headers={"content-type": "application/json"})
        assert error_of(r, 503)["type"] == "overloaded_error"
        expected = -(-worker.held_s // worker.workers)  # one place frees in held/workers s
        assert int(r.headers["retry-after"]) == expected
        assert http.get("/healthz").status_code == 200  # what needs no worker is served
    finally:
        worker.in_flight = 0
    assert http.post("/v1/query", content=b"{not json",
                     headers={"content-type": "application/json"}).status_code == 422


class _Slow:
    """An ingestor whose jobs run until released (the queue is what is tested here)."""

    def __init__(self):
        self.started: list[str] = []
        self.release = threading.Event()
        self.released: list[str] = []  # the files whose claims a finished job gave up

    def release_claims(self, sources, collection):
        self.released += [s.name for s in sources]

    def ingest(self, sources, collection, progress=None, read=None):
        self.started.append(collection)
        for s in sources:
            read(s.name)
        self.release.wait(10)
        from ingest.sources import IngestReport
        return IngestReport(collection)


def _wait(cond):
    deadline = time.time() + 5
    while not cond():
        assert time.time() < deadline
        time.sleep(0.01)


def test_the_job_queue_is_bounded_and_fair(tmp_path):
    from ingest.sources import Source
    from rag.store.db import Database

    slow = _Slow()
    jobs = Jobs(slow, Database(f"sqlite:///{tmp_path}/jobs.db"), "test",  # type: ignore[arg-type]
                workers=2, max_jobs=3, max_bytes=10_000)
    try:
        a1 = jobs.submit([Source("a1.txt", data=b"x" * 100)], "alpha")
        a2 = jobs.submit([Source("a2.txt", data=b"x" * 100)], "alpha")
        b1 = jobs.submit([Source("b1.txt", data=b"x" * 100)], "beta")
        # beta does not wait behind alpha's second job: one running job per collection
        _wait(lambda: sorted(slow.started) == ["alpha", "beta"])
        assert a1.status == b1.status == "running" and a2.status == "queued"
        assert a1.view()["files_read"] == 1 and a1.view()["current_file"] == "a1.txt"
        jobs.submit([Source("c1.txt", data=b"x" * 100)], "gamma")
        jobs.submit([Source("c2.txt", data=b"x" * 100)], "gamma")
        with pytest.raises(QueueFull) as full:  # three waiting: the count limit
            jobs.submit([Source("d.txt", data=b"x" * 100)], "delta")
        assert full.value.retry_after >= 1
        slow.release.set()
        _wait(lambda: all(j.status == "done" for j in jobs._jobs.values()))
        # bytes: a big job may wait alone, but not beside another big one
        slow.release.clear()
        jobs.submit([Source("big1", data=b"x" * 9_000)], "alpha")  # runs
        _wait(lambda: slow.started.count("alpha") == 3)
        jobs.submit([Source("big2", data=b"x" * 9_000)], "alpha")  # waits, alone
        with pytest.raises(QueueFull, match="MAX_QUEUED_BYTES"):
            jobs.submit([Source("big3", data=b"x" * 9_000)], "beta")
    finally:
        slow.release.set()
        jobs.shutdown()


def test_a_full_queue_is_a_429_with_retry_after(live, http, settings):
    jobs = live.server.config.app.state.jobs
    jobs.max_jobs = 0  # nothing may wait
    jobs._queues["other"] = deque([(Job("waiting", "other", 1, 10), [])])
    try:
        r = http.post("/v1/ingest", files=[("files", ("a.md", b"# A\n\nText."))],
                      data={"background": "true"})
        body = error_of(r, 429)
        assert body["code"] == "queue_full" and "MAX_QUEUED_JOBS" in body["message"]
        assert int(r.headers["retry-after"]) >= 1
    finally:
        jobs._queues.pop("other")
