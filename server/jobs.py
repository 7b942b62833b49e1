"""Background ingestion jobs for large uploads: one job at a time on its own thread (queries
go on meanwhile), progress readable while it runs. Jobs live in memory: a restarted server
forgets them, but what they wrote stays (and a rerun skips it as unchanged)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ingest.pipeline import FileResult, Ingestor, Source

MAX_KEPT = 200  # finished jobs remembered


@dataclass
class Job:
    id: str
    collection: str
    files_total: int
    status: str = "queued"  # queued | running | done | failed
    files_done: int = 0
    chunks: int = 0
    images: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "collection": self.collection,
                "files_total": self.files_total, "files_done": self.files_done,
                "chunks_written": self.chunks, "images_written": self.images,
                "errors": self.errors, "message": self.message, "created": self.created,
                "finished": self.finished,
                **({"files": self.results} if self.status in ("done", "failed") else {})}


class Jobs:
    def __init__(self, ingestor: Ingestor):
        self.ingestor = ingestor
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="mmrag-ingest-job")

    def submit(self, sources: list[Source], collection: str) -> Job:
        job = Job(uuid.uuid4().hex, collection, len(sources))
        with self._lock:
            self._jobs[job.id] = job
            done = [j for j in self._jobs.values() if j.finished]
            for old in sorted(done, key=lambda j: j.finished or 0)[:-MAX_KEPT]:
                self._jobs.pop(old.id, None)
        self._pool.submit(self._run, job, sources)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def _run(self, job: Job, sources: list[Source]) -> None:
        job.status = "running"

        def progress(r: FileResult) -> None:
            job.files_done += 1
            if r.status in ("ingested", "replaced"):
                job.chunks += r.chunks
                job.images += r.images
            elif r.status in ("skipped", "failed"):
                job.errors.append({"source": r.source, "status": r.status, "reason": r.reason})

        try:
            report = self.ingestor.ingest(sources, job.collection, progress)
            job.results = [vars(r) for r in report.files]
            job.message = "; ".join(report.notes)
            job.status = "done"
        except Exception as e:  # reported through the job, not lost in a thread
            job.status, job.message = "failed", f"{type(e).__name__}: {e}"
        finally:
            job.finished = time.time()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
