"""Untrusted files are decoded in worker processes, never in the server's own.

Each worker (``ingest/worker.py``) runs with an address-space cap, and each file gets a
wall-clock budget. A file that blows the memory cap, hangs a decoder, or crashes one (a zip
bomb, a page bomb, a kind of bomb nobody has thought of yet) costs that file a clear error
naming the limit and the place it was reached, and the worker is replaced; the server and the
other files go on. This isolates resource exhaustion and crashes; it is not a sandbox against
code execution in a decoder."""

from __future__ import annotations

import atexit
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rag.errors import InvalidInput, TooLarge

from .loaders import Limits, Loaded

_ROOT = str(Path(__file__).resolve().parents[1])


def _gib(n: int) -> str:
    return f"{n / 2**30:g} GiB"


class _Process:
    """One decoder process and its two pipes."""

    def __init__(self, memory_bytes: int):
        to_child, child_in = os.pipe()
        child_out, from_child = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ingest.worker", str(to_child), str(from_child),
             str(memory_bytes)],
            pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL, env=env,
            close_fds=True)
        os.close(to_child)
        os.close(from_child)
        self.send = Connection(child_in, readable=False)
        self.recv = Connection(child_out, writable=False)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.send.close()
        self.recv.close()


class Decoders:
    """A pool of ``size`` decoder processes, started on first use and replaced after a kill.
    ``parse`` blocks the calling thread (a loader thread) until its file is decoded."""

    def __init__(self, size: int, memory_bytes: int, seconds: float):
        self.size = size
        self.memory_bytes = memory_bytes
        self.seconds = seconds
        self._idle: queue.LifoQueue[_Process | None] = queue.LifoQueue()
        for _ in range(size):
            self._idle.put(None)  # a place; its process starts when first needed
        self._lock = threading.Lock()
        self._all: list[_Process] = []
        self._closed = False

    def parse(self, name: str, data: bytes, limits: Limits, base: Path | None = None,
              ocr_min_confidence: float | None = None) -> Loaded:
        proc = self._idle.get()
        try:
            if proc is None or not proc.alive():
                proc = self._start()
            loaded = self._ask(proc, name, ("parse", (name, data, limits, base,
                                                      ocr_min_confidence)))
        finally:
            self._idle.put(proc if proc is not None and proc.alive() else None)
        for pic in loaded.pictures:
            if not pic.data:  # not sent back: the file itself (see worker.parse)
                pic.data = data
        return loaded

    def render_page(self, data: bytes, page: int, max_pixels: int) -> bytes:
        """A PDF page as PNG, rendered in a decoder process (with its budgets) like any
        decoding: the file came from a user."""
        proc = self._idle.get()
        try:
            if proc is None or not proc.alive():
                proc = self._start()
            png: bytes = self._ask(proc, f"page {page}", ("render", (data, page, max_pixels)))
        finally:
            self._idle.put(proc if proc is not None and proc.alive() else None)
        return png

    def _start(self) -> _Process:
        with self._lock:
            if self._closed:
                raise RuntimeError("the decoder pool is closed")
            proc = _Process(self.memory_bytes)
            self._all = [p for p in self._all if p.alive()] + [proc]
            return proc

    def _ask(self, proc: _Process, name: str, task: tuple[Any, ...]) -> Any:
        stage = "starting"
        try:
            proc.send.send(task)
        except (BrokenPipeError, OSError):
            proc.kill()
            raise TooLarge(f"the decoder process for {name!r} could not be reached") from None
        deadline = time.monotonic() + self.seconds
        while True:
            left = deadline - time.monotonic()
            try:
                ready = left > 0 and proc.recv.poll(left)
                if not ready:
                    proc.kill()
                    raise TooLarge(f"decoding took longer than its budget of {self.seconds:g} s "
                                   f"(stopped while {stage}; MMRAG_INGEST__PARSE_SECONDS)")
                kind, value = proc.recv.recv()
            except (EOFError, OSError):
                proc.kill()
                raise TooLarge(self._death(proc, stage)) from None
            if kind == "stage":
                stage = value
                continue
            break
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "memory":
            proc.kill()  # a worker that ran out may hold fragmented memory: start afresh
            raise TooLarge(f"exceeded the {_gib(self.memory_bytes)} memory budget while "
                           f"{stage} (MMRAG_INGEST__PARSE_MEMORY_BYTES)")
        if kind == "TooLarge":
            raise TooLarge(value)
        if kind == "InvalidInput":
            raise InvalidInput(value)
        raise RuntimeError(value)

    def _death(self, proc: _Process, stage: str) -> str:
        code = proc.proc.returncode
        how = f"exit code {code}"
        if code is not None and code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
        return (f"the decoder process died ({how}) while {stage}; a file that crashes the "
                f"decoder or needs more than {_gib(self.memory_bytes)} of memory is refused")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs, self._all = self._all, []
        for p in procs:
            try:
                p.send.send(None)
                p.proc.wait(2)
            except Exception:
                pass
            p.kill()


_SHARED: dict[tuple[int, int, float], Decoders] = {}
_SHARED_LOCK = threading.Lock()


def shared(size: int, memory_bytes: int, seconds: float) -> Decoders:
    """One pool per configuration in a process: ingestors built with the same settings (a
    server's, a test session's) share their decoder processes."""
    key = (size, memory_bytes, seconds)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Decoders(size, memory_bytes, seconds)
        return _SHARED[key]


@atexit.register
def _close_all() -> None:
    for pool in list(_SHARED.values()):
        pool.close()
