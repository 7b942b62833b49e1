"""Question encoders in lower precision against fp32: speed, fidelity and rankings, on a
real index.

    MMRAG_DATA_DIR=DIR python -m eval.bench.question_precision QUESTIONS --collection NAME
        [--model text|clip] [--k 5]

Questions go through ONNX Runtime in fp32 (the checked export mmrag uses), through OpenVINO in
bf16 (what mmrag uses on CPUs with native bf16, ``rag.embedders.bf16``; the row is left out
elsewhere), and through int8 copies of the export made by ONNX Runtime's dynamic
quantization: every MatMul (per tensor, and per channel), and the feed-forward MatMuls only.
For each it prints the CPU per question in calls of 8, the worst and mean cosine to the fp32
vectors, and what the store returns for them: the share of questions whose top k is the same
list, the mean overlap of the top k, and hit@k against the questions' relevant sources where
the file names them. QUESTIONS is an eval dataset (JSON lines with "question" and
"relevant") or a text file, one question a line.

Stored vectors stay as they are (ingestion's): only the question side changes, as it would in
a server. mmrag's question vectors must stay within cosine 0.9999 of fp32 (``onnx.MIN_COSINE``);
this measures how far each variant is from that, and whether rankings move, for a given model
and index."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FEED_FORWARD = re.compile(r"mlp|intermediate|/layer\.\d+/output/")


def questions(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            row = json.loads(line)
            out.append((row["question"], list(row.get("relevant") or [])))
        else:
            out.append((line, []))
    return out


def variants(src: Path, work: Path) -> dict[str, tuple[Path, bool]]:
    """Each variant's ONNX file, and whether it runs in bf16 on OpenVINO."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.embedders import bf16

    names = [n.name for n in onnx.load(str(src)).graph.node if n.op_type == "MatMul"]
    plans: dict[str, dict[str, Any]] = {
        "int8, every MatMul": {},
        "int8, every MatMul, per channel": {"per_channel": True},
        "int8, feed-forward only, per channel": {
            "per_channel": True, "nodes_to_quantize": [n for n in names if FEED_FORWARD.search(n)]},
    }
    out = {"fp32": (src, False)}
    if bf16.version() is not None:
        out["bf16, OpenVINO"] = (src, True)
    for i, (name, kw) in enumerate(plans.items()):
        dst = work / f"int8-{i}.onnx"
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], **kw)
        out[name] = (dst, False)
    return out


def cpu_per_question(encoder: Any, texts: list[str], batch: int = 8) -> float:
    calls = [texts[i:i + batch] for i in range(0, len(texts), batch)]
    encoder.texts(calls[0])
    t0 = time.process_time()
    for c in calls:
        encoder.texts(c)
    return (time.process_time() - t0) * 1000 / len(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--collection", default="default")
    ap.add_argument("--model", choices=["text", "clip"], default="text")
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from eval.metrics import is_relevant
    from rag import items
    from rag.embedders import onnx as ox
    from rag.parts import Parts
    from rag.settings import Settings

    parts = Parts.from_settings(Settings())
    embedder: Any = parts.text if args.model == "text" else parts.images.embedder
    modality = "text" if args.model == "text" else "image"
    base = embedder.question_encoder()
    if base is None or base.path is None or base.tokenizer is None:
        raise SystemExit(f"no checked ONNX export with its tokenizer for the {args.model} model")
    qs = questions(args.questions)
    texts = [q for q, _ in qs]
    print(f"{len(qs)} questions; {args.model} model, export {base.path.name}; collection "
          f"{args.collection!r}, {parts.store.count(args.collection, modality)} {modality} "
          f"items; top {args.k}; {os.cpu_count()} cores")
    print("\n| question encoder | CPU ms/question | worst cosine | mean cosine | same top k "
          "| top-k overlap | hit@k |")
    print("|---|---|---|---|---|---|---|")
    reference: np.ndarray | None = None
    ref_ids: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="mmrag-int8-") as work:
        for name, (path, in_bf16) in variants(base.path, Path(work)).items():
            encoder = ox.session(path, base.input_names, in_bf16).attach(base.tokenizer,
                                                                        base.dimension)
            vecs = encoder.texts(texts)
            rows = parts.store.search(args.collection, modality, vecs, args.k)
            ids = [[s.id for s in row] for row in rows]
            hits = [any(is_relevant(str(s.metadata.get(items.SOURCE, "")), s.id, r)
                        for s in row for r in rel) for row, (_, rel) in zip(rows, qs, strict=True)
                    if rel]
            if reference is None:
                reference, ref_ids = vecs, ids
            cos = (vecs * reference).sum(axis=1)
            same = statistics.mean(a == b for a, b in zip(ids, ref_ids, strict=True))
            overlap = statistics.mean(len(set(a) & set(b)) / max(len(b), 1)
                                      for a, b in zip(ids, ref_ids, strict=True))
            hit = f"{statistics.mean(hits):.3f} ({len(hits)})" if hits else "-"
            print(f"| {name} | {cpu_per_question(encoder, texts):.2f} | {cos.min():.5f} | "
                  f"{cos.mean():.5f} | {same:.3f} | {overlap:.3f} | {hit} |", flush=True)


if __name__ == "__main__":
    main()
