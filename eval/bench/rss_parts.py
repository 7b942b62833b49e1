"""Benchmark: what a replica's memory is made of, part by part.

    python -m eval.bench.rss_parts --data DIR [--clip PATH] [--questions 400] [--models]

Builds, in one process and in the order ``mmrag serve`` does, each part of a replica and
prints the process's RSS after each: Python with the server's libraries imported, the vector
store opened (embedded Chroma on ``--data``, or the server of ``MMRAG_CHROMA_URL``), the text
model's question encoder (its cached export: OpenVINO or ONNX Runtime), CLIP's text tower (the
same), the word vectors of the extractive answer, then ``--questions`` distinct questions
answered (the buffers and caches the question path keeps). With ``--models``, PyTorch's text
model and CLIP are loaded after that (what pictures need: their ingestion, a question with
one), each with its figure. The caches must hold the exports already (an earlier ``mmrag
serve`` with the same models and ``MMRAG_CACHE_DIR``): otherwise the models load at once and
the figures say so. Every step is preceded by a full garbage collection and followed by
``malloc_trim``, so the figures are what each part holds, not what the allocator kept."""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


def rss() -> float:
    import psutil

    from rag.lazy import give_back_freed_memory

    gc.collect()
    give_back_freed_memory()
    return psutil.Process().memory_info().rss / MiB


class Steps:
    """Runs each part's step and records the RSS it added."""

    def __init__(self) -> None:
        self.last = rss()
        self.rows: list[tuple[str, float, float]] = [("Python (interpreter only)", self.last,
                                                       self.last)]

    def __call__(self, name: str, fn: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        fn()
        now = rss()
        self.rows.append((f"{name} ({time.perf_counter() - t0:.1f} s)", now - self.last, now))
        self.last = now

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"{'part':{width}}  {'adds MiB':>9}  {'RSS MiB':>8}")
        for name, added, total in self.rows:
            print(f"{name:{width}}  {added:9,.0f}  {total:8,.0f}")


def _service(data: Path, clip: str | None) -> Any:
    """What ``mmrag serve`` imports besides the server's code, and the service built."""
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401

    import ingest.pipeline  # noqa: F401
    from rag.service import RagService
    from rag.settings import Settings

    settings = Settings(data_dir=data)
    if clip:
        settings.clip_model = clip
    return RagService.from_settings(settings)


def _runtimes() -> None:
    """The libraries that run the exports, before any model."""
    import onnxruntime  # noqa: F401

    try:
        import openvino

        openvino.Core()
    except ImportError:
        pass


def _ask(svc: Any, n: int) -> None:
    from rag.schema import Query

    collections = svc.parts.store.collections() or ["default"]
    rng = random.Random(0)
    words = ("policy travel meal allowance badge password expense deadline form report "
             "install server key network backup user account office holiday").split()
    for i in range(n):
        text = " ".join(rng.sample(words, 4)) + f" {i}?"
        svc.answer(Query(text=text, collection=rng.choice(collections)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a data dir with a collection")
    ap.add_argument("--clip", help="CLIP model (else MMRAG_CLIP_MODEL or the default)")
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--models", action="store_true", help="then load PyTorch's models too")
    args = ap.parse_args()
    step = Steps()
    loaded: dict[str, Any] = {}
    step("+ FastAPI, uvicorn, ingestion and the core imported, settings",
         lambda: loaded.update(svc=_service(args.data, args.clip)))
    svc = loaded["svc"]
    parts = svc.parts
    clip = parts.images.embedder
    step("+ vector store opened", parts.store.ping)
    quick: dict[str, bool] = {}

    def encoder(name: str, embedder: Any, embed: Callable[[list[str]], object]) -> None:
        quick[name] = embedder.quick_start()
        embed(["warm up"])

    step("+ ONNX Runtime and OpenVINO libraries", _runtimes)
    step("+ text model's question encoder (cached export)",
         lambda: encoder("text", parts.text, parts.text.embed_questions))
    step("+ CLIP's text tower (cached export)", lambda: encoder("clip", clip, clip.embed_text))
    for name, fast in quick.items():
        if not fast:
            print(f"NOTE: no cached export for the {name} model: it was loaded instead")
    step("+ word vectors (extractive answer)", parts.text.word_vectors)
    idle = step.last
    step(f"+ {args.questions} questions answered", lambda: _ask(svc, args.questions))
    answered = step.last
    if args.models:
        step("+ PyTorch text model (loaded)", parts.text.load)
        step("+ PyTorch CLIP (loaded, image tower compiled)", clip.load)
    step.print()
    print(f"idle (ready) {idle:,.0f} MiB; after questions {answered:,.0f} MiB")


if __name__ == "__main__":
    main()
