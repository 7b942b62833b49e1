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

MiB = 1024 * 1024


def rss() -> float:
    import psutil

    from rag.lazy import give_back_freed_memory

    gc.collect()
    give_back_freed_memory()
    return psutil.Process().memory_info().rss / MiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a data dir with a collection")
    ap.add_argument("--clip", help="CLIP model (else MMRAG_CLIP_MODEL or the default)")
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--models", action="store_true", help="then load PyTorch's models too")
    args = ap.parse_args()
    rows: list[tuple[str, float, float]] = []
    last = rss()
    rows.append(("Python (interpreter only)", last, last))

    def step(name: str, fn: Callable[[], object]) -> None:
        nonlocal last
        t0 = time.perf_counter()
        fn()
        now = rss()
        rows.append((f"{name} ({time.perf_counter() - t0:.1f} s)", now - last, now))
        last = now

    loaded: dict[str, object] = {}

    def imports() -> None:
        import fastapi  # noqa: F401  (what `mmrag serve` imports besides the server's code)
        import uvicorn  # noqa: F401

        import ingest.pipeline  # noqa: F401
        from rag.service import RagService
        from rag.settings import Settings

        settings = Settings(data_dir=args.data, **({"clip_model": args.clip} if args.clip
                                                   else {}))
        loaded["svc"] = RagService.from_settings(settings)

    step("+ FastAPI, uvicorn, ingestion and the core imported, settings", imports)
    from rag.schema import Query
    from rag.service import RagService

    svc = loaded["svc"]
    assert isinstance(svc, RagService)
    parts = svc.parts
    clip = parts.images.embedder
    step("+ vector store opened", parts.store.ping)
    quick: dict[str, bool] = {}

    def runtimes() -> None:  # the libraries that run the exports, before any model
        import onnxruntime  # noqa: F401

        try:
            import openvino

            openvino.Core()
        except ImportError:
            pass

    def encoder(name: str, embedder: object, embed: Callable[[list[str]], object]) -> None:
        quick[name] = embedder.quick_start()  # type: ignore[attr-defined]
        embed(["warm up"])

    step("+ ONNX Runtime and OpenVINO libraries", runtimes)
    step("+ text model's question encoder (cached export)",
         lambda: encoder("text", parts.text, parts.text.embed_questions))
    step("+ CLIP's text tower (cached export)", lambda: encoder("clip", clip, clip.embed_text))
    for name, fast in quick.items():
        if not fast:
            print(f"NOTE: no cached export for the {name} model: it was loaded instead")
    step("+ word vectors (extractive answer)", parts.text.word_vectors)
    idle = last
    collections = parts.store.collections() or ["default"]
    rng = random.Random(0)
    words = ("policy travel meal allowance badge password expense deadline form report "
             "install server key network backup user account office holiday").split()

    def ask() -> None:
        for i in range(args.questions):
            text = " ".join(rng.sample(words, 4)) + f" {i}?"
            svc.answer(Query(text=text, collection=rng.choice(collections)))

    step(f"+ {args.questions} questions answered", ask)
    answered = last
    if args.models:
        step("+ PyTorch text model (loaded)", parts.text.load)
        step("+ PyTorch CLIP (loaded, image tower compiled)", clip.load)
    width = max(len(r[0]) for r in rows)
    print(f"{'part':{width}}  {'adds MiB':>9}  {'RSS MiB':>8}")
    for name, added, total in rows:
        print(f"{name:{width}}  {added:9,.0f}  {total:8,.0f}")
    print(f"idle (ready) {idle:,.0f} MiB; after questions {answered:,.0f} MiB")


if __name__ == "__main__":
    main()
