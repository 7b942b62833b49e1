"""bf16 against fp32 on this CPU, per model and per input shape, through mmrag's embedders.

    python -m eval.bench.precision [--clip base|tiny|PATH] [--repeats 5]

For each case the same embedder runs the same inputs in fp32 and in bf16 (PyTorch autocast),
``--repeats`` times each, interleaved; it prints the median time of each, the speed-up and
the worst cosine between the two runs' vectors. Cases: MiniLM on 64 passages of ~256 tokens
(ingestion), on 8 answer sentences and on 16 questions (a batch of concurrent requests);
CLIP's image tower on 32 pictures (ingestion) and its text tower on 16 questions. The CLIP
has ViT-B/32's shapes and random weights (``--clip base``), so its speed is the real model's.
ONNX Runtime (fp32), which embeds lone questions, is shown beside the question batches."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .corpus import WORDS, sentence


def timed(fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="base")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import random

    import torch

    from rag.embedders import precision
    from rag.embedders.clip import ClipEmbedder
    from rag.embedders.text import SentenceTransformerEmbedder
    from rag.testing.models import TRAINING_TEXT, build_random_clip

    work = Path(tempfile.mkdtemp(prefix="mmrag-precision-"))
    vocab = TRAINING_TEXT + "\n" + " ".join(WORDS)
    clip_path = (str(build_random_clip(work / "clip", args.clip, text=vocab))
                 if args.clip in ("base", "tiny") else args.clip)
    text = SentenceTransformerEmbedder("all-MiniLM-L6-v2", "cpu", cache_dir=work).load()
    clip = ClipEmbedder(clip_path, "cpu", cache_dir=work).load()
    rng = random.Random(0)
    passages = [" ".join(sentence(rng) for _ in range(14)) for _ in range(64)]
    answers = [sentence(rng) for _ in range(8)]
    questions = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + "?"
                 for _ in range(16)]
    pixels = torch.from_numpy(np.random.default_rng(0).normal(
        size=(32, 3, clip.image_size, clip.image_size)).astype(np.float32))
    onnx_text, onnx_clip = text._short.get(), clip._short.get()
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; native bf16: {precision.supported('cpu')}; "
          f"CLIP {args.clip}; median of {args.repeats}")
    cases: list[tuple[str, Callable[[bool], np.ndarray], Callable[[], np.ndarray] | None]] = [
        ("MiniLM, 64 passages of ~256 tokens", lambda b: text._embed_torch(passages, b), None),
        ("MiniLM, 8 answer sentences", lambda b: text._embed_torch(answers, b),
         (lambda: onnx_text(text._features(answers))) if onnx_text else None),
        ("MiniLM, 16 questions", lambda b: text._embed_torch(questions, b),
         (lambda: onnx_text(text._features(questions))) if onnx_text else None),
        ("CLIP images, 32 pictures", lambda b: clip._run(clip._model.get_image_features, b,
                                                         pixel_values=pixels), None),
        ("CLIP text, 16 questions", lambda b: clip._embed_text_torch(questions, b),
         (lambda: onnx_clip(clip._tokenize(questions, "np"))) if onnx_clip else None),
    ]
    print("\n| case | fp32 ms | bf16 ms | speed-up | worst cosine | ONNX Runtime fp32 ms |")
    print("|---|---|---|---|---|---|")
    for name, run, onnx in cases:
        print(_row(name, run, onnx, args.repeats))


def _row(name: str, run: Callable[[bool], np.ndarray], onnx: Callable[[], np.ndarray] | None,
         repeats: int) -> str:
    """One case: fp32 and bf16 PyTorch (and the fp32 export), median of ``repeats``, and the
    worst cosine between the fp32 and bf16 vectors."""
    run(False), run(True)  # warm-up
    t32, t16, tox = [], [], []
    for _ in range(repeats):
        t, exact = timed(lambda: run(False))
        t32.append(t)
        t, fast = timed(lambda: run(True))
        t16.append(t)
        if onnx is not None:
            tox.append(timed(onnx)[0])
    exact = exact / np.linalg.norm(exact, axis=1, keepdims=True)
    fast = fast / np.linalg.norm(fast, axis=1, keepdims=True)
    worst = float((exact * fast).sum(axis=1).min())
    a, b = statistics.median(t32) * 1000, statistics.median(t16) * 1000
    ox = f"{statistics.median(tox) * 1000:.1f}" if tox else "-"
    return f"| {name} | {a:.1f} | {b:.1f} | {a / b:.2f}x | {worst:.6f} | {ox} |"


if __name__ == "__main__":
    main()
