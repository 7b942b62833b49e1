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

import numpy as np

WORDS = """the policy team office travel expense claim receipt manager approval budget project
customer report quarter revenue meeting schedule laptop password security network access
server database backup release product feature design review deadline contract invoice
payment supplier order delivery warehouse inventory training onboarding employee benefit
holiday leave salary payroll insurance health safety building floor room parking visitor
badge camera printer document archive folder email calendar phone support ticket incident
change request priority status update plan goal result metric analysis dashboard chart
forecast market strategy partner sales marketing campaign website launch version upgrade
migration cloud storage compute cost saving risk audit compliance regulation privacy data
quality process workflow automation tool system platform service team lead engineer analyst
""".split()
COLORS = ["red", "green", "blue", "orange", "purple", "teal", "black", "gray"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    return " ".join(words).capitalize() + "."


def make_corpus(root: Path, n_chunks_target: int, n_images: int, seed: int = 0) -> None:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    (root / "texts").mkdir(parents=True)
    (root / "images").mkdir(parents=True)
    # ~110 words per 128-token chunk with 24 overlap: a 600-word document makes ~6 chunks
    for i in range(max(1, n_chunks_target // 6)):
        paras = ["\n".join(sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(8)]
        (root / "texts" / f"doc{i:05d}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(paras))
    for i in range(n_images):
        w, h = rng.choice([(640, 480), (800, 600), (512, 512), (1024, 768)])
        im = Image.new("RGB", (w, h), rng.choice(COLORS))
        d = ImageDraw.Draw(im)
        for _ in range(12):
            x, y = rng.randrange(w), rng.randrange(h)
            d.ellipse([x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)],
                      fill=rng.choice(COLORS))
        im.save(root / "images" / f"img{i:04d}.{'jpg' if i % 2 else 'png'}")


def padding_meta(modality: str, n: int) -> list[dict]:
    """Padded items as a knowledge base holds them: text in documents of 20 chunks, 20
    documents to a folder; each picture its own file. (One 8,500-chunk document would be
    capped by the retriever's diversity, which then searches deeper on every question.)"""
    from rag import items

    if modality == "image":
        return [{items.SOURCE: f"padding/{i}.png", items.DOC_ID: f"padding-image-{i}",
                 items.MODALITY: modality} for i in range(n)]
    return [{items.SOURCE: f"padding/{i // 400}/{i // 20}.txt",
             items.DOC_ID: f"padding-text-{i // 20}", items.MODALITY: modality}
            for i in range(n)]


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main() -> None:
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
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    from transformers.utils import logging as hf_logging

    from ingest.loaders import Limits, load
    from ingest.manifest import Manifest
    from ingest.pipeline import Ingestor, walk
    from rag.embedders.clip import ClipEmbedder
    from rag.embedders.text import SentenceTransformerEmbedder
    from rag.schema import Query
    from rag.sections import IngestSettings
    from rag.service import RagService
    from rag.settings import Settings
    from rag.testing.models import TRAINING_TEXT, build_random_clip

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    work = Path(tempfile.mkdtemp(prefix="mmrag-bench-"))
    clip_path = args.clip
    if args.clip in ("base", "tiny"):
        # a tokenizer that knows the corpus's words, as the real CLIP vocabulary knows English
        vocab_text = TRAINING_TEXT + "\n" + "\n".join(" ".join(WORDS[i:i + 12])
                                                      for i in range(0, len(WORDS), 12))
        clip_path = str(build_random_clip(work / f"clip-{args.clip}", args.clip, text=vocab_text))
    corpus = work / "corpus"
    make_corpus(corpus, args.chunks, args.images)
    # OCR is off: this measures the CLIP and MiniLM paths against their raw throughput
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
    svc = RagService.from_settings(settings, text_model, clip_model)
    svc.warm_up()
    ingestor = Ingestor(svc)
    names = {"onnx": "ONNX Runtime", "torch": "PyTorch"}
    runtimes = {names[e.question_runtime] for e in (text_model, clip_model)}
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; CLIP {args.clip}; questions embedded with "
          f"{' and '.join(sorted(runtimes))}; decoding: {args.parse_isolation}; work dir {work}")

    # raw model throughput, on exactly what ingestion will embed
    text_files = sorted((corpus / "texts").iterdir())
    # exactly what ingestion embeds: the loader's parts (Markdown sections), chunked
    chunks = [c for f in text_files
              for part, _ in load(f.name, f.read_bytes(), Limits(10**9, 10**9)).parts
              for c in ingestor.chunker.split(part)]
    text_model.embed(chunks[:64])  # warm-up
    images = [load(f.name, f.read_bytes(), Limits(10**9, 10**9)).pictures[0].image
              for f in sorted((corpus / "images").iterdir())]
    pixels = clip_model.preprocess(images)
    clip_model.embed_pixels(pixels[:8])
    del images

    # Shared machines drift (steal time): raw throughput is measured right before and right
    # after each ingestion, and ingestion is compared with the mean of the two. Each round
    # ingests into a fresh data dir (the models stay loaded); the last round's store is kept.
    ratios: dict[str, list[float]] = {"text": [], "images": []}
    for r in range(args.rounds):
        if r:
            svc = RagService.from_settings(
                settings.model_copy(update={"data_dir": work / f"data{r}"}), text_model,
                clip_model)
            ingestor = Ingestor(svc)
        raw_text = [len(chunks) / timed(text_model.embed, chunks)[1]]
        text_report, t_ing_text = timed(ingestor.ingest, list(walk([corpus / "texts"])))
        raw_text.append(len(chunks) / timed(text_model.embed, chunks)[1])
        raw_img = [args.images / timed(clip_model.embed_pixels, pixels)[1]]
        img_report, t_ing_img = timed(ingestor.ingest, list(walk([corpus / "images"])))
        raw_img.append(args.images / timed(clip_model.embed_pixels, pixels)[1])
        assert text_report.chunks == len(chunks), (text_report.chunks, len(chunks))
        assert img_report.images == args.images and not img_report.problems

        ing_text, ing_img = len(chunks) / t_ing_text, args.images / t_ing_img
        if r == 0:
            print(f"\ncorpus: {len(text_files)} text files -> {len(chunks)} chunks; "
                  f"{args.images} images (512-1024 px)")
        for name, unit, raw, ing in (("text", "chunks/s", raw_text, ing_text),
                                     ("images", "images/s", raw_img, ing_img)):
            mean = statistics.mean(raw)
            ratios[name].append(100 * ing / mean)
            print(f"round {r + 1} {name:6}: raw model {mean:7.1f} {unit} (before {raw[0]:.1f}, "
                  f"after {raw[1]:.1f}) | ingestion {ing:7.1f} {unit} | "
                  f"{100 * ing / mean:5.1f}% of raw")
    if args.rounds > 1:
        for name, xs in ratios.items():
            print(f"{name}: ingestion at {statistics.median(xs):.1f}% of raw (median of "
                  f"{len(xs)} rounds; range {min(xs):.1f}-{max(xs):.1f}%)")
    del pixels

    # pad to the target index size with random unit vectors; padded text items get prose of
    # the corpus's words, in the full-text index too where there is one (rag/store/lexical.py)
    rng = np.random.default_rng(0)
    prng = random.Random(2)
    lexical = getattr(svc.parts, "lexical", None)
    for modality, target, dim in (("text", args.pad_chunks, text_model.dimension),
                                  ("image", args.pad_images, clip_model.dimension)):
        n = target - svc.parts.store.count("default", modality)
        if n > 0:
            v = rng.normal(size=(n, dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            ids = [f"pad-{modality}-{i}" for i in range(n)]
            docs = [" ".join(sentence(prng) for _ in range(5)) for _ in range(n)]
            svc.parts.store.upsert("default", modality, ids, v,
                                   padding_meta(modality, n),
                                   docs if modality == "text" else None)
            if modality == "text" and lexical is not None:
                lexical.upsert("default", ids, docs)
    print(f"\nindex: {svc.parts.store.count('default', 'text')} text chunks, "
          f"{svc.parts.store.count('default', 'image')} images (padded with random vectors)")
    qrng = random.Random(1)
    questions = [" ".join(qrng.choice(WORDS) for _ in range(qrng.randint(4, 12))) + "?"
                 for _ in range(args.queries)]
    for q in questions[:10]:
        svc.retrieve(Query(text=q))
    lat, embed, search = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        _, timings = svc.retrieve(Query(text=q, top_k=5))
        lat.append((time.perf_counter() - t0) * 1000)
        embed.append(timings["embed_ms"])
        search.append(timings["search_ms"])
    lat.sort()
    p = lambda xs, q: sorted(xs)[min(len(xs) - 1, int(q * len(xs)))]  # noqa: E731
    print(f"retrieval ({args.queries} text questions, both collections, calibrated, top 5): "
          f"p50 {p(lat, 0.5):.1f} ms, p99 {p(lat, 0.99):.1f} ms "
          f"(embed p50 {statistics.median(embed):.1f} ms, search p50 "
          f"{statistics.median(search):.1f} ms)")

    # the same text chunks in a collection without images: CLIP is not needed to ask
    texts, vecs = svc.parts.store.get("default", "text", with_vectors=True)
    assert vecs is not None
    svc.parts.store.upsert("textonly", "text", [t.id for t in texts], vecs,
                     [t.metadata for t in texts], [t.document or "" for t in texts])
    if lexical is not None:
        lexical.upsert("textonly", [t.id for t in texts], [t.document or "" for t in texts])
    # and its documents, as ingestion records them (the retriever reads their folders)
    manifest = Manifest(svc.parts.db)
    manifest.put(*[dataclasses.replace(d, collection="textonly")
                   for d in manifest.list("default")])
    lat = []
    for q in questions:
        t0 = time.perf_counter()
        svc.retrieve(Query(text=q, top_k=5, collection="textonly"))
        lat.append((time.perf_counter() - t0) * 1000)
    print(f"retrieval, text-only collection of {len(texts)} chunks: p50 {p(lat, 0.5):.1f} ms, "
          f"p99 {p(lat, 0.99):.1f} ms")


if __name__ == "__main__":
    main()
