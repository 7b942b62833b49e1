"""Benchmark: ingestion throughput against raw model throughput, and retrieval latency.

    python -m eval.bench.ingest_retrieval [--chunks 3000] [--images 300] [--clip base] [--rounds 1]

Generates a corpus (text files of English-like prose, images with shapes), then measures in
one run:
  - raw model throughput: sentence-transformers ``encode`` on the corpus's chunks, and CLIP
    ``get_image_features`` on its preprocessed images (the model calls alone);
  - ingestion throughput: ``Ingestor`` on the same files (read, hash, decode, chunk,
    preprocess, embed, write to Chroma, manifest), texts and images measured separately;
  - retrieval latency p50/p99 of ``RagService.retrieve`` (both collections, calibrated fusion)
    after padding the store to --pad-chunks / --pad-images items with random unit vectors
    (index size is what matters for search latency; the padding is labelled as such).

``--clip base`` builds a CLIP with random weights and the exact shapes of
openai/clip-vit-base-patch32, so its speed is the real model's; pass a path to use real
weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.corpus import WORDS, make_corpus, padding_meta, sentence


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chunks", type=int, default=3000, help="target text chunks in the corpus")
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--clip", default="base", help="'base', 'tiny' or a model path")
    ap.add_argument("--pad-chunks", type=int, default=10_000)
    ap.add_argument("--pad-images", type=int, default=1_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=1,
                    help="ingestion rounds (each against raw measured right before and after)")
    ap.add_argument("--parse-isolation", choices=("process", "off"), default="process",
                    help="decode files in decoder processes (the default) or in-process")
    return ap.parse_args()


@dataclasses.dataclass
class Bench:
    """What the measurements share: the work dir, the settings, the two models (loaded
    once, kept across rounds) and the corpus as the models see it."""

    args: argparse.Namespace
    work: Path
    settings: Any
    text_model: Any
    clip_model: Any
    chunks: list[str] = dataclasses.field(default_factory=list)
    pixels: Any = None


def _setup(args: argparse.Namespace) -> Bench:
    """A corpus, the settings (OCR off: this measures the CLIP and MiniLM paths against
    their raw throughput) and the models, loaded."""
    from rag.embedders.clip import ClipEmbedder
    from rag.embedders.text import SentenceTransformerEmbedder
    from rag.sections import IngestSettings
    from rag.settings import Settings
    from rag.testing.models import TRAINING_TEXT, build_random_clip

    work = Path(tempfile.mkdtemp(prefix="mmrag-bench-"))
    clip_path = args.clip
    if args.clip in ("base", "tiny"):
        # a tokenizer that knows the corpus's words, as the real CLIP vocabulary knows English
        vocab_text = TRAINING_TEXT + "\n" + "\n".join(" ".join(WORDS[i:i + 12])
                                                      for i in range(0, len(WORDS), 12))
        clip_path = str(build_random_clip(work / f"clip-{args.clip}", args.clip, text=vocab_text))
    make_corpus(work / "corpus", args.chunks, args.images)
    settings = Settings(data_dir=work / "data", clip_model=clip_path, device="cpu",
                        ingest=IngestSettings(ocr="off", parse_isolation=args.parse_isolation),
                        _env_file=None)
    text_model = SentenceTransformerEmbedder(settings.text_model, settings.device,
                                             settings.ingest.text_batch_size,
                                             settings.query_runtime, settings.cache_dir,
                                             settings.precision)
    clip_model = ClipEmbedder(settings.clip_model, settings.device,
                              settings.ingest.image_batch_size, settings.query_runtime,
                              settings.cache_dir, settings.precision)
    return Bench(args, work, settings, text_model, clip_model)


def _model_inputs(b: Bench, chunker: Any) -> int:
    """Exactly what ingestion will embed (the loader's parts, chunked; the pictures
    preprocessed), for the raw figures; the models warmed up on it. Returns the text files'
    count."""
    from ingest.loaders import Limits, load

    corpus = b.work / "corpus"
    text_files = sorted((corpus / "texts").iterdir())
    b.chunks = [c for f in text_files
                for part, _ in load(f.name, f.read_bytes(), Limits(10**9, 10**9)).parts
                for c in chunker.split(part)]
    b.text_model.embed(b.chunks[:64])
    images = [load(f.name, f.read_bytes(), Limits(10**9, 10**9)).pictures[0].image
              for f in sorted((corpus / "images").iterdir())]
    b.pixels = b.clip_model.preprocess(images)
    b.clip_model.embed_pixels(b.pixels[:8])
    return len(text_files)


def _round(b: Bench, ingestor: Any) -> dict[str, tuple[list[float], float]]:
    """One ingestion of the corpus, texts then pictures, each between two raw measurements
    (shared machines drift): {name: ([raw before, raw after], ingestion rate)}."""
    from ingest.pipeline import walk

    corpus, chunks, n_images = b.work / "corpus", b.chunks, b.args.images
    raw_text = [len(chunks) / timed(b.text_model.embed, chunks)[1]]
    text_report, t_text = timed(ingestor.ingest, list(walk([corpus / "texts"])))
    raw_text.append(len(chunks) / timed(b.text_model.embed, chunks)[1])
    raw_img = [n_images / timed(b.clip_model.embed_pixels, b.pixels)[1]]
    img_report, t_img = timed(ingestor.ingest, list(walk([corpus / "images"])))
    raw_img.append(n_images / timed(b.clip_model.embed_pixels, b.pixels)[1])
    assert text_report.chunks == len(chunks), (text_report.chunks, len(chunks))
    assert img_report.images == n_images and not img_report.problems
    return {"text": (raw_text, len(chunks) / t_text), "images": (raw_img, n_images / t_img)}


def _ingestion(b: Bench, svc: Any) -> Any:
    """``--rounds`` ingestions, each into a fresh data dir (the models stay loaded), against
    the raw models; prints each and the median. Returns the last round's service."""
    from ingest.pipeline import Ingestor
    from rag.service import RagService

    ingestor = Ingestor(svc)
    files = _model_inputs(b, ingestor.chunker)
    ratios: dict[str, list[float]] = {"text": [], "images": []}
    for r in range(b.args.rounds):
        if r:
            svc = RagService.from_settings(
                b.settings.model_copy(update={"data_dir": b.work / f"data{r}"}),
                b.text_model, b.clip_model)
            ingestor = Ingestor(svc)
        rates = _round(b, ingestor)
        if r == 0:
            print(f"\ncorpus: {files} text files -> {len(b.chunks)} chunks; "
                  f"{b.args.images} images (512-1024 px)")
        for (name, (raw, ing)), unit in zip(rates.items(), ("chunks/s", "images/s"),
                                            strict=True):
            mean = statistics.mean(raw)
            ratios[name].append(100 * ing / mean)
            print(f"round {r + 1} {name:6}: raw model {mean:7.1f} {unit} (before {raw[0]:.1f}, "
                  f"after {raw[1]:.1f}) | ingestion {ing:7.1f} {unit} | "
                  f"{100 * ing / mean:5.1f}% of raw")
    if b.args.rounds > 1:
        for name, xs in ratios.items():
            print(f"{name}: ingestion at {statistics.median(xs):.1f}% of raw (median of "
                  f"{len(xs)} rounds; range {min(xs):.1f}-{max(xs):.1f}%)")
    b.pixels = None
    return svc


def _pad(b: Bench, svc: Any) -> None:
    """The index padded to the target size with random unit vectors; padded text items get
    prose of the corpus's words, in the full-text index too where there is one."""
    rng = np.random.default_rng(0)
    prng = random.Random(2)
    lexical = getattr(svc.parts, "lexical", None)
    for modality, target, dim in (("text", b.args.pad_chunks, b.text_model.dimension),
                                  ("image", b.args.pad_images, b.clip_model.dimension)):
        n = target - svc.parts.store.count("default", modality)
        if n <= 0:
            continue
        v = rng.normal(size=(n, dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        ids = [f"pad-{modality}-{i}" for i in range(n)]
        docs = [" ".join(sentence(prng) for _ in range(5)) for _ in range(n)]
        svc.parts.store.upsert("default", modality, ids, v, padding_meta(modality, n),
                               docs if modality == "text" else None)
        if modality == "text" and lexical is not None:
            lexical.upsert("default", ids, docs)
    print(f"\nindex: {svc.parts.store.count('default', 'text')} text chunks, "
          f"{svc.parts.store.count('default', 'image')} images (padded with random vectors)")


def _text_only_copy(svc: Any) -> int:
    """The same text chunks in a collection without pictures (CLIP is not needed to ask),
    with its documents as ingestion records them (the retriever reads their folders)."""
    from ingest.manifest import Manifest

    texts, vecs = svc.parts.store.get("default", "text", with_vectors=True)
    assert vecs is not None
    svc.parts.store.upsert("textonly", "text", [t.id for t in texts], vecs,
                           [t.metadata for t in texts], [t.document or "" for t in texts])
    lexical = getattr(svc.parts, "lexical", None)
    if lexical is not None:
        lexical.upsert("textonly", [t.id for t in texts], [t.document or "" for t in texts])
    manifest = Manifest(svc.parts.db)
    manifest.put(*[dataclasses.replace(d, collection="textonly")
                   for d in manifest.list("default")])
    return len(texts)


def _retrieval(svc: Any, questions: list[str], collection: str = "default"
               ) -> tuple[list[float], list[float], list[float]]:
    """Latency of each question's retrieval (ms), and its embedding and search times."""
    from rag.schema import Query

    lat, embed, search = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        _, timings = svc.retrieve(Query(text=q, top_k=5, collection=collection))
        lat.append((time.perf_counter() - t0) * 1000)
        embed.append(timings["embed_ms"])
        search.append(timings["search_ms"])
    return sorted(lat), embed, search


def main() -> None:
    args = _arguments()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from transformers.utils import logging as hf_logging

    from rag.schema import Query
    from rag.service import RagService

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    b = _setup(args)
    svc = RagService.from_settings(b.settings, b.text_model, b.clip_model)
    svc.warm_up()
    names = {"onnx": "ONNX Runtime", "torch": "PyTorch"}
    runtimes = {names[e.question_runtime] for e in (b.text_model, b.clip_model)}
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; CLIP {args.clip}; questions embedded with "
          f"{' and '.join(sorted(runtimes))}; decoding: {args.parse_isolation}; work dir {b.work}")
    svc = _ingestion(b, svc)
    _pad(b, svc)
    qrng = random.Random(1)
    questions = [" ".join(qrng.choice(WORDS) for _ in range(qrng.randint(4, 12))) + "?"
                 for _ in range(args.queries)]
    for q in questions[:10]:
        svc.retrieve(Query(text=q))
    lat, embed, search = _retrieval(svc, questions)
    p = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))]  # noqa: E731
    print(f"retrieval ({args.queries} text questions, both collections, calibrated, top 5): "
          f"p50 {p(lat, 0.5):.1f} ms, p99 {p(lat, 0.99):.1f} ms "
          f"(embed p50 {statistics.median(embed):.1f} ms, search p50 "
          f"{statistics.median(search):.1f} ms)")
    n = _text_only_copy(svc)
    lat, _, _ = _retrieval(svc, questions, "textonly")
    print(f"retrieval, text-only collection of {n} chunks: p50 {p(lat, 0.5):.1f} ms, "
          f"p99 {p(lat, 0.99):.1f} ms")


if __name__ == "__main__":
    main()
