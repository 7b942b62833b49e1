"""The decoder process: ``python -m ingest.worker FD_IN FD_OUT MEMORY_BYTES``.

It caps its own address space first, then decodes files one at a time for the server or the
command line (``ingest/isolation.py`` starts and watches it): load the file, read the text in
its pictures, send the result back; or render one page of a PDF for a citation's link.
Tasks are ``(command, args)``. Messages are pickled tuples on two pipes; ``("stage",
"page 3")`` messages say where it is, so a kill or a crash can be reported with the place."""

from __future__ import annotations

import resource
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


def _cap(memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind


def parse(conn: Connection, name: str, data: bytes, limits: Any, base: Path | None,
          ocr_min_confidence: float | None) -> Any:
    from . import loaders

    loaders.report_stage(lambda where: conn.send(("stage", where)))
    loaded = loaders.load(name, data, limits, base)
    if ocr_min_confidence is not None and loaded.pictures:
        ocr = _ocr(ocr_min_confidence)
        for k, pic in enumerate(loaded.pictures, 1):
            loaders.stage(f"reading the text in picture {k} of {len(loaded.pictures)}")
            pic.ocr_text = ocr.read(pic.image).text
    loaders.stage("sending the result")
    if loaded.kind == "image":  # the picture's bytes are the file's: the server has them
        loaded.pictures[0].data = b""
    return loaded


def render(data: bytes, page: int, max_pixels: int) -> bytes:
    """One page of a PDF as PNG bytes (the page a citation points at)."""
    from .loaders.pdf import render_page

    return render_page(data, page, max_pixels)


_OCR: dict[float, Any] = {}


def _ocr(min_confidence: float) -> Any:
    if min_confidence not in _OCR:
        from .ocr import RapidOcr

        _OCR[min_confidence] = RapidOcr(min_confidence)
    return _OCR[min_confidence]


def serve(conn_in: Connection, conn_out: Connection) -> None:
    from rag.errors import InvalidInput, TooLarge

    while True:
        try:
            task = conn_in.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        command, args = task
        try:
            reply: tuple[str, Any] = ("ok", parse(conn_out, *args) if command == "parse"
                                      else render(*args))
        except MemoryError:
            reply = ("memory", "")
        except RecursionError:
            reply = ("TooLarge", "the file is nested too deeply to decode")
        except (InvalidInput, TooLarge) as e:
            reply = (type(e).__name__, str(e))
        except Exception as e:  # a decoder bug costs this file, not the process
            reply = ("failed", f"{type(e).__name__}: {e}")
        try:
            conn_out.send(reply)
        except MemoryError:
            conn_out.send(("memory", ""))
        del reply, task


def main() -> None:
    fd_in, fd_out, memory = (int(a) for a in sys.argv[1:4])
    _cap(memory)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which stops us
    serve(Connection(fd_in, writable=False), Connection(fd_out, readable=False))


if __name__ == "__main__":
    main()
