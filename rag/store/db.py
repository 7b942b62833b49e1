"""The database that holds what replicas share besides vectors and image copies: documents
(the manifest), ingestion claims, jobs, and the processes that are alive. SQLAlchemy Core over
a SQLite file by default, PostgreSQL for several machines; the schema is in ``TABLES`` and
migrated by Alembic (rag/store/migrations) when a process opens it.

A process registers itself (``Process``) and beats every ``heartbeat_seconds``; one silent for
``stale_seconds`` is dead, so its claims lapse and its jobs can be marked failed by anyone."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rag.errors import Unavailable
from rag.extras import need
from rag.items import folder_of

log = logging.getLogger(__name__)
meta = sa.MetaData()

documents = sa.Table(
    "documents", meta,
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("doc_id", sa.Text, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("images", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ingested_at", sa.Text, nullable=False),
    sa.Column("text_model", sa.Text, nullable=False),
    sa.Column("clip_model", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Index("documents_source", "collection", "source"),
)
processes = sa.Table(
    "processes", meta,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),  # server | ingest
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)
claims = sa.Table(
    "claims", meta,
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("doc_id", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False),
)
jobs = sa.Table(
    "jobs", meta,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("collection", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # the job's view, as JSON
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)
TABLES = {t.name: t for t in (documents, processes, claims, jobs)}


def folder_shares(db: Database, collection: str) -> dict[str, float]:
    """Each folder's share of a collection's documents that hold text (``items.folder_of``
    their sources): what a folder of documents is against the whole collection."""
    with db.begin() as conn:
        sources = conn.execute(sa.select(documents.c.source).where(
            documents.c.collection == collection, documents.c.chunks > 0)).scalars().all()
    counts = Counter(folder_of(source) for source in sources)
    return {f: n / len(sources) for f, n in counts.items()}


def engine_url(url: str) -> str:
    """A plain ``postgresql://`` (or ``postgres://``) URL uses psycopg 3, the driver mmrag
    installs; any URL naming its driver is kept."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def _describe(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str, stale_seconds: float = 30.0):
        self.url = sa.engine.make_url(engine_url(url))
        self.stale_seconds = stale_seconds
        if self.url.get_backend_name() == "sqlite":
            if self.url.database:
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(
                self.url, connect_args={"timeout": 30, "check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            if self.url.get_backend_name() == "postgresql" and self.url.get_driver_name() \
                    == "psycopg":
                need("replicas", "a PostgreSQL database (MMRAG_DATABASE_URL)", "psycopg")
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=5,
                                           max_overflow=10)
        self._migrated = False
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction; an unreachable database is ``Unavailable`` (503, retry)."""
        self.migrate()
        try:
            with self.engine.begin() as conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as e:
            raise self._unreachable(e) from e

    def _unreachable(self, e: sa.exc.DBAPIError) -> Unavailable:
        return Unavailable(f"the database at {_describe(self.url)} is not reachable: "
                           f"{str(e.orig or e).strip().splitlines()[0]}")

    def migrate(self) -> None:
        """Bring the schema to the newest version, once per process; several processes
        starting together take turns (an advisory lock on PostgreSQL, a file lock on SQLite)."""
        if self._migrated:
            return
        with self._lock:
            if self._migrated:
                return
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
            try:
                with self._exclusive(), self.engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as e:
                raise self._unreachable(e) from e
            self._migrated = True

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(7262616700)"))
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(7262616700)"))
                    conn.commit()
        elif self.dialect == "sqlite" and self.url.database:
            import fcntl

            with open(f"{self.url.database}.migrate-lock", "w") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
        else:
            yield

    def ping(self) -> None:
        with self.begin() as conn:
            conn.execute(sa.text("SELECT 1"))

    def alive_after(self) -> float:
        """Heartbeats older than this are from dead processes."""
        return time.time() - self.stale_seconds

    def insert_ignore(self, table: sa.Table, rows: dict[str, Any]) -> Any:
        """INSERT ... ON CONFLICT DO NOTHING, in either dialect."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).values(**rows).on_conflict_do_nothing()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(**rows).on_conflict_do_nothing()


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (the server) never block a writer
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Process:
    """This process's row in ``processes``, kept fresh by a daemon thread until ``stop``."""

    def __init__(self, db: Database, role: str, heartbeat_seconds: float = 5.0):
        self.db = db
        self.id = f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.role = role
        self.heartbeat_seconds = heartbeat_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Process:
        """Register and start beating. With the database away, the first beat that gets
        through registers instead (the process runs meanwhile)."""
        now = time.time()
        try:
            with self.db.begin() as conn:
                conn.execute(processes.insert().values(
                    id=self.id, role=self.role, host=socket.gethostname(), pid=os.getpid(),
                    started_at=now, heartbeat_at=now))
        except Unavailable as e:
            log.warning("not registered yet: %s", e)
        self._thread = threading.Thread(target=self._beat, name="mmrag-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                with self.db.begin() as conn:
                    done = conn.execute(processes.update().where(processes.c.id == self.id)
                                        .values(heartbeat_at=time.time())
                                        .returning(processes.c.id)).first()
                    if done is None:  # taken for dead while the database was away: come back
                        conn.execute(processes.insert().values(
                            id=self.id, role=self.role, host=socket.gethostname(),
                            pid=os.getpid(), started_at=time.time(),
                            heartbeat_at=time.time()))
            except Exception as e:  # the database away for a while: try again next beat
                log.warning("heartbeat failed: %s", e)

    def stop(self) -> None:
        """Leave cleanly: the row and this process's claims go at once."""
        self._stop.set()
        try:
            with self.db.begin() as conn:
                conn.execute(claims.delete().where(claims.c.owner == self.id))
                conn.execute(processes.delete().where(processes.c.id == self.id))
        except Exception as e:
            log.warning("could not remove this process from the database: %s", e)


def reap_local(conn: sa.Connection) -> int:
    """Forget processes of this host whose pid is gone (killed, crashed): their claims and
    jobs need not wait ``stale_seconds``. Processes elsewhere go by their heartbeat."""
    rows = conn.execute(sa.select(processes.c.id, processes.c.pid)
                        .where(processes.c.host == socket.gethostname())).all()
    dead = [pid_id for pid_id, pid in rows if not _pid_alive(pid)]
    if dead:
        conn.execute(processes.delete().where(processes.c.id.in_(dead)))
    return len(dead)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_processes(db: Database) -> sa.Select:
    """The ids of processes alive now, as a subquery."""
    return sa.select(processes.c.id).where(processes.c.heartbeat_at > db.alive_after())


def is_alive(conn: sa.Connection, db: Database, process_id: str) -> bool:
    reap_local(conn)
    return conn.execute(sa.select(processes.c.id).where(
        processes.c.id == process_id, processes.c.heartbeat_at > db.alive_after())).first() \
        is not None
