"""Real engines as local processes, for the tests of several replicas: a Chroma server
(`chroma run`, from the chromadb package), PostgreSQL (Debian's package; scripts/test.sh
installs it) and an S3-compatible server (moto's server mode). An engine that cannot be
started skips its tests with the reason, except in CI (CI=true), where that is a failure."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run these tests: scripts/test.sh starts the engines)")
    pytest.skip(reason)


def _wait(ok: object, what: str, proc: subprocess.Popen | None, log: Path,
          timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            if ok():  # type: ignore[operator]
                return
        except Exception:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    unavailable(f"{what} did not start: {tail}")


class Chroma:
    """`chroma run` on a free port; ``stop`` and ``start`` again keep the data."""

    def __init__(self, root: Path):
        self.path = root / "chroma-server"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "chroma.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Chroma:
        exe = BIN / "chroma"
        if not exe.exists():
            unavailable("the chroma command (chromadb package) is not installed")
        self.proc = subprocess.Popen(
            [str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port",
             str(self.port)], stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait(lambda: httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200,
              "the Chroma server", self.proc, self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(dirs[-1]) if dirs else None


class Postgres:
    """A throwaway PostgreSQL cluster on a free port (as the postgres user when run as root,
    as initdb requires)."""

    def __init__(self, root: Path):
        self.bin = _pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="mmrag-pg-"))  # outside pytest's tmp (perms)
        self.port = free_port()
        self.log = self.dir / "server.log"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=120)

    def start(self) -> Postgres:
        if self.bin is None:
            unavailable("PostgreSQL is not installed (scripts/test.sh installs Debian's "
                        "postgresql package)")
        assert self.bin is not None
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        out = self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U",
                        "postgres", "-E", "UTF8")
        if out.returncode:
            unavailable(f"initdb failed: {out.stderr[-800:]}")
        out = self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.log), "-w",
                        "-o", f"-p {self.port} -h 127.0.0.1 -k {self.dir}", "start")
        if out.returncode:
            log = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
            unavailable(f"PostgreSQL did not start: {out.stderr[-400:]} {log}")
        return self

    def database(self) -> str:
        """A new, empty database; its plain postgresql:// URL."""
        import psycopg

        name = f"mmrag_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.bin is not None and (self.dir / "data").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast",
                      "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class S3:
    """moto's S3 server; ``env`` is what a process needs to use it through boto3."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "moto.log"
        self.proc: subprocess.Popen | None = None
        self.env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.url}

    def start(self) -> S3:
        exe = BIN / "moto_server"
        if not exe.exists():
            unavailable("moto_server is not installed (pip install 'moto[server]')")
        self.proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _wait(lambda: httpx.get(self.url, timeout=2).status_code < 500, "the S3 server",
              self.proc, self.log)
        return self

    def bucket(self) -> str:
        import boto3

        name = f"mmrag-{uuid.uuid4().hex[:10]}"
        boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test"
                     ).create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
