"""Benchmark: the memory one large text upload costs an embedded-Chroma process.

    python -m eval.bench.upload_memory [--mb 10] [--clip /path/to/clip] [--server]

Builds a text of ``--mb`` MB from real prose on this machine (the repository's Markdown,
repeated), ingests it through the pipeline the server uses (the same ``Ingestor``, after a
small warm-up file has loaded the models) and prints the process's RSS before, at its peak
(sampled every 0.25 s) and after, with the chunk count and the time. With ``--server``, the
same text is uploaded to a ``mmrag serve`` started for it (default settings, a fresh data dir,
after a small warm-up upload), in one synchronous ``POST /v1/ingest``, and the server's RSS is
sampled: its own process, and with its decoder processes."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def text_of(size: int) -> bytes:
    """English prose: paragraphs the multilingual channel would also embed (the docs quote
    Chinese) are left out, so the figure stays one text model's."""
    from rag.text.language import needs_multilingual

    prose = "\n\n".join(
        para for p in sorted(ROOT.rglob("*.md"))
        if ".venv" not in p.parts and "node_modules" not in p.parts
        for para in p.read_text(encoding="utf-8").split("\n\n") if not needs_multilingual(para))
    return (prose * (size // len(prose) + 1)).encode("utf-8")[:size]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--clip", default=os.environ.get("MMRAG_CLIP_MODEL"))
    ap.add_argument("--server", action="store_true", help="upload to a `mmrag serve`")
    args = ap.parse_args()
    if args.server:
        served(text_of(int(args.mb * MiB)), args.mb, args.clip)
        return
    import psutil

    from ingest.pipeline import Ingestor, Source
    from rag.service import RagService
    from rag.settings import Settings

    data = text_of(int(args.mb * MiB))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), **({"clip_model": args.clip} if args.clip
                                                  else {}))
        ingestor = Ingestor(RagService.from_settings(settings))
        ingestor.ingest([Source("warm-up.txt", data=b"A small file loads the models. " * 400)])
        gc.collect()
        me = psutil.Process()
        before = me.memory_info().rss
        report, (peak,), seconds = peak_during(
            lambda: (me.memory_info().rss,),
            lambda: ingestor.ingest([Source("big.txt", data=data)]))
        gc.collect()
        after = me.memory_info().rss
    f = report.files[-1]
    print(f"{args.mb:g} MB of text: {f.status}, {f.chunks:,} chunks in {seconds:.0f} s "
          f"(batch {settings.ingest.text_batch_size}, slices of {settings.ingest.group_chunks})")
    print(f"RSS before {before / MiB:,.0f} MiB, peak {peak / MiB:,.0f} MiB "
          f"(+{(peak - before) / MiB:,.0f}), after {after / MiB:,.0f} MiB "
          f"(+{(after - before) / MiB:,.0f})")


def peak_during(read: Callable[[], tuple[float, ...]], work: Callable[[], T]
                ) -> tuple[T, tuple[float, ...], float]:
    """``work()``'s result, the highest of each of ``read()``'s figures while it ran (read
    every 0.25 s, and before it), and its seconds."""
    peak = read()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.25):
            peak = tuple(max(a, b) for a, b in zip(peak, read(), strict=True))

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    try:
        result = work()
    finally:
        done.set()
        watcher.join()
    return result, peak, time.perf_counter() - t0


def served(data: bytes, mb: float, clip: str | None) -> None:
    import httpx
    import psutil

    from eval.bench.replicas import free_port, wait

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MMRAG_DATA_DIR": str(Path(tmp) / "data"),
               **({"MMRAG_CLIP_MODEL": clip} if clip else {})}
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "mmrag", "serve", "--port", str(port)],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait(url + "/readyz", proc, "mmrag serve")
            server = psutil.Process(proc.pid)

            def rss() -> tuple[float, float]:
                own = server.memory_info().rss
                kids = sum(q.memory_info().rss for q in server.children(recursive=True))
                return own / MiB, (own + kids) / MiB

            with httpx.Client(base_url=url, timeout=3600) as client:
                def upload(name: str, body: bytes) -> dict:
                    r = client.post("/v1/ingest", files={"files": (name, body, "text/plain")},
                                    data={"background": "false"})
                    r.raise_for_status()
                    return dict(r.json())

                upload("warm-up.txt", b"A small file loads the models. " * 400)
                ready = rss()
                report, peak, seconds = peak_during(rss, lambda: upload("big.txt", data))
                time.sleep(1)
                after = rss()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    f = report["files"][-1]
    print(f"{mb:g} MB of text uploaded to mmrag serve: {f['status']}, {f['chunks']:,} chunks "
          f"in {seconds:.0f} s")
    for i, what in enumerate(("server process", "with its decoder processes")):
        print(f"{what}: RSS before {ready[i]:,.0f} MiB, peak {peak[i]:,.0f} MiB "
              f"(+{peak[i] - ready[i]:,.0f}), after {after[i]:,.0f} MiB "
              f"(+{after[i] - ready[i]:,.0f})")


if __name__ == "__main__":
    main()
