"""Background ingestion jobs for large uploads: a bounded queue (jobs and bytes) served by a
few job threads, fair between collections, with progress per file as it happens. A job runs
on the replica that took the upload (its bytes are in that replica's memory); its state is in
the shared database, so any replica answers ``GET /v1/jobs/{id}``, and a job whose replica
died is reported failed by whichever replica looks next. What a job wrote stays either way,
and uploading the files again skips what is unchanged."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ingest.pipeline import FileResult, Ingestor, Source
from rag.errors import QueueFull
from rag.store.db import Database, claims, is_alive, jobs

log = logging.getLogger(__name__)
MAX_KEPT = 200  # finished jobs kept in memory
KEEP_DAYS = 7  # finished jobs kept in the database
SAVE_EVERY_S = 0.5  # progress is written at most this often; a job's start and end always
SETTLE_MAX_WAIT_S = 5.0  # with the database away, its end is tried again at least this often
DEFAULT_RATE = 1024 * 1024  # bytes/s assumed until a job has been measured


@dataclass
class Job:
    id: str
    collection: str
    files_total: int
    bytes: int = 0
    status: str = "queued"  # queued | running | done | failed
    files_read: int = 0
    files_done: int = 0
    current: str = ""
    chunks: int = 0
    images: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    saved: float = 0.0  # when its state was last written to the database

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "collection": self.collection,
                "files_total": self.files_total, "files_read": self.files_read,
                "files_done": self.files_done, "current_file": self.current,
                "chunks_written": self.chunks, "images_written": self.images,
                "errors": self.errors, "message": self.message, "created": self.created,
                "finished": self.finished,
                **({"files": self.results} if self.status in ("done", "failed") else {})}


class Jobs:
    """``workers`` job threads; at most one running job per collection, and the next job is
    taken from the collections in turn, so one tenant's big upload never stalls another's.
    Past ``max_jobs`` queued jobs or ``max_bytes`` queued bytes, ``submit`` raises QueueFull
    with the seconds the queue needs to drain enough, from the measured ingestion rate."""

    def __init__(self, ingestor: Ingestor, db: Database, owner: str, workers: int = 2,
                 max_jobs: int = 16, max_bytes: int = 512 * 1024 * 1024):
        """``db`` holds the jobs' state; ``owner`` is this process (rag/store/db.py: Process)."""
        self.ingestor = ingestor
        self.db = db
        self.owner = owner
        self.max_jobs = max_jobs
        self.max_bytes = max_bytes
        self._jobs: dict[str, Job] = {}
        self._queues: dict[str, deque[tuple[Job, list[Source]]]] = {}
        self._running: set[str] = set()
        self._turn: deque[str] = deque()  # collections in the order they get the next job
        self._cond = threading.Condition()
        self._rate = float(DEFAULT_RATE)  # bytes per second, moving average
        self._stop = False
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"mmrag-job-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, sources: list[Source], collection: str) -> Job:
        size = sum(len(s.data or b"") for s in sources)
        job = Job(uuid.uuid4().hex, collection, len(sources), size)
        with self._cond:
            queued = [j for q in self._queues.values() for j, _ in q]
            waiting = sum(j.bytes for j in queued)
            if len(queued) >= self.max_jobs or (queued and waiting + size > self.max_bytes):
                running = sum(j.bytes for j in self._jobs.values() if j.status == "running")
                excess = max(size, waiting + size - self.max_bytes) + running
                raise QueueFull(
                    f"the ingestion queue is full ({len(queued)} jobs, {waiting:,} bytes "
                    f"waiting; limits {self.max_jobs} jobs and {self.max_bytes:,} bytes, "
                    "MMRAG_SERVER__MAX_QUEUED_JOBS and MMRAG_SERVER__MAX_QUEUED_BYTES)",
                    retry_after=self._seconds(excess))
            self._save(job)
            self._jobs[job.id] = job
            self._queues.setdefault(collection, deque()).append((job, sources))
            if collection not in self._turn:
                self._turn.append(collection)
            done = [j for j in self._jobs.values() if j.finished]
            for old in sorted(done, key=lambda j: j.finished or 0)[:-MAX_KEPT]:
                self._jobs.pop(old.id, None)
            self._cond.notify()
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's view, from any replica. A queued or running job whose process is gone
        is marked failed here, so no job stays "running" forever."""
        with self.db.begin() as c:
            row = c.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            view = json.loads(row["state"])
            if row["status"] in ("queued", "running") and not is_alive(c, self.db, row["owner"]):
                view.update(status="failed", current_file="", finished=time.time(),
                            message="the replica running this job stopped before it "
                            "finished; what it wrote is kept, and uploading the files "
                            "again skips what is unchanged")
                c.execute(jobs.update().where(jobs.c.id == job_id).values(
                    status="failed", state=json.dumps(view), updated=time.time()))
                # its files can be uploaded again at once, even if the replica comes back
                c.execute(claims.delete().where(claims.c.owner == row["owner"],
                                                claims.c.collection == row["collection"]))
        return view

    def _save(self, job: Job, force: bool = True) -> None:
        now = time.time()
        if not force and now - job.saved < SAVE_EVERY_S:
            return
        job.saved = now
        state = json.dumps(job.view())
        with self.db.begin() as c:
            done = c.execute(jobs.update().where(jobs.c.id == job.id).values(
                status=job.status, state=state, updated=now).returning(jobs.c.id)).first()
            if done is None:
                c.execute(jobs.insert().values(id=job.id, collection=job.collection,
                                               owner=self.owner, status=job.status,
                                               state=state, created=job.created, updated=now))
                c.execute(jobs.delete().where(jobs.c.updated < now - KEEP_DAYS * 86400,
                                              jobs.c.status.in_(("done", "failed"))))

    def _seconds(self, nbytes: int) -> int:
        return max(1, min(3600, math.ceil(nbytes / self._rate)))

    def _next(self) -> tuple[Job, list[Source]] | None:
        """The first collection in turn that has a queued job and none running."""
        for _ in range(len(self._turn)):
            coll = self._turn[0]
            self._turn.rotate(-1)
            queue = self._queues.get(coll)
            if queue and coll not in self._running:
                return queue.popleft()
        return None

    def _loop(self) -> None:
        while True:
            with self._cond:
                picked = None
                while not self._stop and (picked := self._next()) is None:
                    self._cond.wait()
                if self._stop or picked is None:
                    return
                job, sources = picked
                self._running.add(job.collection)
            try:
                self._run(job, sources)
            finally:
                with self._cond:
                    self._running.discard(job.collection)
                    if not self._queues.get(job.collection):
                        self._queues.pop(job.collection, None)
                        if job.collection in self._turn:
                            self._turn.remove(job.collection)
                    self._cond.notify_all()

    def _run(self, job: Job, sources: list[Source]) -> None:
        job.status, job.started = "running", time.time()

        def read(source: str) -> None:
            job.files_read += 1
            job.current = source
            self._save(job, force=False)

        def progress(r: FileResult) -> None:
            job.files_done += 1
            if r.status in ("ingested", "replaced"):
                job.chunks += r.chunks
                job.images += r.images
            elif r.status in ("skipped", "failed"):
                job.errors.append({"source": r.source, "status": r.status, "reason": r.reason})
            self._save(job, force=False)

        try:
            self._save(job)
            report = self.ingestor.ingest(sources, job.collection, progress, read)
            job.results = [vars(r) for r in report.files]
            job.message = "; ".join(report.notes)
            job.status = "done"
            failed = report.count("failed")
            if failed and failed == len(report.files):  # nothing came of it: say so
                job.status = "failed"
                reasons = sorted({f.reason for f in report.files})
                job.message = "; ".join([f"every file failed: {'; '.join(reasons[:3])}",
                                         *report.notes])
        except Exception as e:  # reported through the job, not lost in a thread
            job.status, job.message = "failed", f"{type(e).__name__}: {e}"
        finally:
            job.finished = time.time()
            job.current = ""
            took = job.finished - job.started
            if job.bytes and took > 0:
                self._rate = 0.7 * self._rate + 0.3 * (job.bytes / took)
            self._settle(job, sources)

    def _settle(self, job: Job, sources: list[Source]) -> None:
        """Record the job's end and release its files' claims, trying again (backing off to
        ``SETTLE_MAX_WAIT_S``) while the database is away, so that no job stays "running"
        and no file stays claimed after an outage. Only a shutdown gives up."""
        wait = 0.25
        while True:
            try:
                # claims first: once the end shows, the files can be uploaded again anywhere
                self.ingestor.release_claims(sources, job.collection)
                self._save(job)
                return
            except Exception as e:  # the database away: the end is recorded when it is back
                log.warning("could not record the end of job %s (%s) yet, trying again in "
                            "%.1f s: %s", job.id, job.status, wait, e)
            if self._stopped.wait(wait):
                log.error("shutting down before the end of job %s (%s) was recorded",
                          job.id, job.status)
                return
            wait = min(wait * 2, SETTLE_MAX_WAIT_S)

    def shutdown(self) -> None:
        with self._cond:
            self._stop = True
            self._stopped.set()
            self._cond.notify_all()
