"""Benchmark: one collection grown to a million text chunks and a hundred thousand pictures,
then questions against it.

    python -m eval.bench.scale [--chunks 1000000] [--pictures 100000] [--work DIR]

Building: --real chunks of the generated corpus's prose are embedded by the text model; the
rest of the text items are those vectors with noise (each a near neighbour of a real chunk,
so the index holds clusters as real text does, not uniform random points), with prose of the
same words for the full-text index. Pictures get random unit vectors of CLIP's size (the
base-shaped CLIP has random weights anyway). Everything is written in slices through the same
code ingestion uses: ``ChromaStore.upsert``, the full-text index's ``upsert`` and
``Manifest.put`` (one document per 20 chunks, 20 documents a folder), then the calibration is
fitted. A second, small collection beside it measures a question on one collection among
several. Then, in one process unless said:

  - build time and disk per item (Chroma, the database with its full-text index);
  - retrieval p50/p99 at 1 client (fused, and the embed/search split), and questions a second
    from 16 threads;
  - a question on the small collection, and one filtered by a tag;
  - RSS of the process after loading and asking;
  - start-up: a new process opening the data dir and answering its first question;
  - re-ingesting one changed document of 20 chunks, against embedding its chunks alone.

A run with --work DIR reuses what an earlier run built there (only the questions run again).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.corpus import WORDS, sentence
from rag import items

BIG, SMALL = "big", "small"
DOC_CHUNKS = 20  # chunks per padded document, 20 documents a folder (as corpus.padding_meta)


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chunks", type=int, default=1_000_000)
    ap.add_argument("--pictures", type=int, default=100_000)
    ap.add_argument("--real", type=int, default=4_000, help="chunks embedded by the model")
    ap.add_argument("--slice", type=int, default=50_000, help="items written at a time")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--work", type=Path, default=None, help="a data dir to build in or reuse")
    ap.add_argument("--clip", choices=("base", "tiny"), default="base",
                    help="CLIP's shapes (random weights): ViT-B/32's, or tiny for a quick check")
    return ap.parse_args(argv)


def _settings(work: Path, size: str = "base") -> Any:
    from rag.sections import IngestSettings
    from rag.settings import Settings
    from rag.testing.models import TRAINING_TEXT, build_random_clip

    clip = work / f"clip-{size}"
    if not clip.exists():
        vocab = TRAINING_TEXT + "\n" + "\n".join(" ".join(WORDS[i:i + 12])
                                                 for i in range(0, len(WORDS), 12))
        build_random_clip(clip, size, text=vocab)
    return Settings(data_dir=work / "data", clip_model=str(clip), device="cpu",
                    ingest=IngestSettings(ocr="off"), _env_file=None)


def _prose(rng: random.Random, n: int) -> list[str]:
    return [" ".join(sentence(rng) for _ in range(5)) for _ in range(n)]


def _documents(start: int, end: int, model: str) -> list[Any]:
    from ingest.manifest import Document

    now = datetime.now(UTC).isoformat(timespec="seconds")
    return [Document(BIG, f"padding-text-{d}", f"padding/{d // 20}/{d}.txt", f"{d:064x}", 4096,
                     "text", DOC_CHUNKS, 0, now, model, "", "done")
            for d in range(start // DOC_CHUNKS, (end + DOC_CHUNKS - 1) // DOC_CHUNKS)]


def _build(svc: Any, args: argparse.Namespace) -> dict[str, float]:
    """The big collection, written slice by slice; seconds per part."""
    from ingest.manifest import Manifest

    parts, rng, prng = svc.parts, np.random.default_rng(0), random.Random(2)
    real = parts.text.embed(_prose(prng, args.real))
    manifest, spent = Manifest(parts.db), {"vectors": 0.0, "full_text": 0.0, "manifest": 0.0}
    have = parts.store.count(BIG, "text")
    for start in range(have, args.chunks, args.slice):
        end = min(start + args.slice, args.chunks)
        vecs = real[rng.integers(0, len(real), end - start)]
        vecs = vecs + rng.normal(scale=0.02, size=vecs.shape).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        ids, docs = [f"t{i}" for i in range(start, end)], _prose(prng, end - start)
        meta = [{items.SOURCE: f"padding/{i // 400}/{i // DOC_CHUNKS}.txt",
                 items.DOC_ID: f"padding-text-{i // DOC_CHUNKS}", items.MODALITY: "text"}
                for i in range(start, end)]
        t = time.perf_counter()
        parts.store.upsert(BIG, "text", ids, vecs, meta, docs, model=parts.text.model_id)
        t1 = time.perf_counter()
        parts.lexical.upsert(BIG, ids, docs)
        t2 = time.perf_counter()
        manifest.put(*_documents(start, end, parts.text.model_id))
        spent["vectors"] += t1 - t
        spent["full_text"] += t2 - t1
        spent["manifest"] += time.perf_counter() - t2
        print(f"  text {end:,}: {end / max(sum(spent.values()), 1e-9):,.0f} items/s so far",
              flush=True)
    clip_dim = parts.images.embedder.dimension
    t = time.perf_counter()
    for start in range(parts.store.count(BIG, "image"), args.pictures, args.slice):
        end = min(start + args.slice, args.pictures)
        v = rng.normal(size=(end - start, clip_dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        pic_meta: list[dict[str, Any]] = [
                {items.SOURCE: f"padding/{i}.png", items.DOC_ID: f"padding-image-{i}",
                 items.MODALITY: "image", items.tag_key("chart"): i % 10 == 0}
            for i in range(start, end)]
        parts.store.upsert(BIG, "image", [f"p{i}" for i in range(start, end)], v, pic_meta,
                           model=parts.images.embedder.model_id)
    spent["pictures"] = time.perf_counter() - t
    return spent


def _small(svc: Any) -> None:
    from ingest.pipeline import Ingestor, Source

    if svc.parts.store.count(SMALL, "text"):
        return
    rng = random.Random(3)
    Ingestor(svc).ingest([Source(f"s{i}.md", data="\n\n".join(_prose(rng, 6)).encode())
                          for i in range(50)], SMALL)


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _percentiles(xs: list[float]) -> str:
    xs = sorted(xs)
    return (f"p50 {xs[len(xs) // 2]:.1f} ms, p99 {xs[min(len(xs) - 1, int(0.99 * len(xs)))]:.1f}"
            " ms")


def _ask(svc: Any, questions: list[str], **query: Any) -> tuple[list[float], dict[str, float]]:
    from rag.schema import Query

    lat: list[float] = []
    parts: dict[str, list[float]] = {"embed_ms": [], "search_ms": [], "fuse_ms": []}
    for q in questions:
        t = time.perf_counter()
        _, timings = svc.retrieve(Query(text=q, top_k=5, **query))
        lat.append((time.perf_counter() - t) * 1000)
        for k in parts:
            parts[k].append(timings.get(k, 0.0))
    return lat, {k: statistics.median(v) for k, v in parts.items()}


def _questions(svc: Any, args: argparse.Namespace) -> None:
    import psutil

    rng = random.Random(1)
    n = args.queries  # each measurement asks questions of its own: vectors are remembered
    qs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + "?"
          for _ in range(5 * n + 10)]
    _ask(svc, qs[-10:], collection=BIG)
    lat, split = _ask(svc, qs[:n], collection=BIG)
    print(f"retrieval, 1 client, both collections fused: {_percentiles(lat)} (embed p50 "
          f"{split['embed_ms']:.1f}, search p50 {split['search_ms']:.1f}, fuse p50 "
          f"{split['fuse_ms']:.1f} ms)")
    from rag.schema import Query

    t = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(lambda q: svc.retrieve(Query(text=q, top_k=5, collection=BIG)),
                      qs[n:3 * n]))
    print(f"retrieval, {args.clients} clients: {2 * n / (time.perf_counter() - t):.1f} "
          "questions/s")
    lat, _ = _ask(svc, qs[3 * n:4 * n], collection=SMALL)
    print(f"retrieval on the small collection beside it (300 chunks): {_percentiles(lat)}")
    lat, _ = _ask(svc, qs[4 * n:5 * n], collection=BIG, tags=["chart"])
    print(f"retrieval filtered by a tag (one picture in ten): {_percentiles(lat)}")
    print(f"RSS of this process: {psutil.Process().memory_info().rss / 2**20:,.0f} MiB")


def _start_up(work: Path, size: str) -> None:
    """A new process: the service over the data dir, warmed up, and its first question."""
    code = ("import time; t = time.perf_counter(); from eval.bench.scale import _settings; "
            "from rag.service import RagService; from rag.schema import Query; from pathlib "
            f"import Path; s = RagService.from_settings(_settings(Path({str(work)!r}), {size!r})); "
            "s.warm_up(); r = time.perf_counter(); s.retrieve(Query(text='travel budget "
            f"approval?', collection={BIG!r})); import psutil; print(f'start-up: ready in "
            "{r - t:.1f} s, first question {1000 * (time.perf_counter() - r):.0f} ms, RSS "
            "{psutil.Process().memory_info().rss / 2**20:,.0f} MiB')")
    print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip())


def _reingest(svc: Any) -> None:
    from ingest.pipeline import Ingestor, Source

    rng = random.Random(4)
    ingestor = Ingestor(svc)
    text = "\n\n".join(_prose(rng, 20))
    ingestor.ingest([Source("changing.md", data=text.encode())], BIG)
    changed = text + "\n\n" + sentence(rng)
    t = time.perf_counter()
    report = ingestor.ingest([Source("changing.md", data=changed.encode())], BIG)
    took = time.perf_counter() - t
    chunks = report.chunks
    t = time.perf_counter()
    svc.parts.text.embed(_prose(rng, chunks))
    print(f"re-ingesting one changed document ({chunks} chunks): {took:.2f} s, of which "
          f"embedding alone takes ~{time.perf_counter() - t:.2f} s")


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.retrieval import calibration
    from rag.service import RagService

    work = args.work or Path(tempfile.mkdtemp(prefix="mmrag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    svc = RagService.from_settings(_settings(work, args.clip))
    svc.warm_up()
    print(f"machine: {os.cpu_count()} cores; work dir {work}")
    t = time.perf_counter()
    spent = _build(svc, args)
    calibration.refit(svc.parts.store, BIG, svc.parts.text, svc.parts.images.get())
    _small(svc)
    n_text, n_pic = svc.parts.store.count(BIG, "text"), svc.parts.store.count(BIG, "image")
    print(f"built in {time.perf_counter() - t:.0f} s ("
          + ", ".join(f"{k} {v:.0f} s" for k, v in spent.items()) + f"): {n_text:,} text "
          f"chunks, {n_pic:,} pictures")
    data = work / "data"
    chroma, rest = _disk(data / "chroma"), _disk(data) - _disk(data / "chroma")
    print(f"disk: Chroma {chroma / 2**20:,.0f} MiB ({chroma / (n_text + n_pic):,.0f} B an "
          f"item), database with full-text index {rest / 2**20:,.0f} MiB "
          f"({rest / max(n_text, 1):,.0f} B a text item)")
    _questions(svc, args)
    _reingest(svc)
    _start_up(work, args.clip)


if __name__ == "__main__":
    main()
