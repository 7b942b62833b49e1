"""Benchmark: a LLaVA-1.5-7B-shaped model through mmrag's LLaVA generator on a CUDA GPU, in
each precision it offers: load time, GPU memory, prefill time and decode speed for a RAG
prompt with pictures.

    python -m eval.bench.llava_gpu [--model DIR] [--quantization 4bit 8bit fp16]
                                   [--new-tokens 128] [--json FILE]

Without --model it builds a model with llava-hf/llava-1.5-7b-hf's shapes (CLIP ViT-L/14 at
336 px, Llama-2-7B) and random weights (rag/testing/models.build_random_llava) in a temporary
folder: memory and speed depend on the shapes, not on the weights, so the figures carry over
to the published checkpoint; the answers' words do not. Its tokenizer is the tests' small one,
so a prompt has more tokens than Llama's tokenizer would give the same words; the prompt
tokens are printed next to every figure."""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.answer.generators.llava import LlavaGenerator
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.sections import GenerationSettings, LlavaSettings

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "kb" / "images"
GIB = 1024**3


def request(max_tokens: int) -> GenerationRequest:
    """A question with three text passages and two pictures as evidence, like `mmrag ask`."""
    texts = [
        "Employees connect to the VPN with the company client; error 809 means the firewall "
        "blocks the tunnel, so switch to the office network or call the help desk.",
        "Guest Wi-Fi is for visitors only; its password changes every Monday and is shown on "
        "the sign at reception.",
        "Travel expenses are reimbursed within 30 days when receipts are attached to the claim.",
    ]
    hits = [Hit(id=f"t{i}", modality="text", source=f"doc{i}.md", raw_score=0.5,
                calibrated_score=2.0, score=2.0, channel="text", text=t)
            for i, t in enumerate(texts)]
    pictures = ["vpn-error-809.png", "guest-wifi-sign.png"]
    hits += [Hit(id=f"i{i}", modality="image", source=name, raw_score=0.3,
                 calibrated_score=1.5, score=1.5, channel="image")
             for i, name in enumerate(pictures)]
    evidence = list(enumerate(hits, start=1))
    paths = {n: str(IMAGES / h.source) for n, h in evidence if h.modality == "image"}
    return GenerationRequest("What does VPN error 809 mean and what should I do?", evidence,
                             image_paths=paths, max_tokens=max_tokens)


def run_once(gen: LlavaGenerator, max_tokens: int) -> tuple[float, int, int]:
    """Seconds for one whole generation, its prompt tokens and completion tokens."""
    import torch

    torch.cuda.synchronize()
    start = time.perf_counter()
    usage = None
    for chunk in gen.generate(request(max_tokens)):
        usage = chunk.usage or usage
    torch.cuda.synchronize()
    assert usage is not None
    return time.perf_counter() - start, usage.prompt_tokens, usage.completion_tokens


def measure(model: str, quantization: str, new_tokens: int, repeats: int) -> dict[str, Any]:
    import torch

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    gen = LlavaGenerator(LlavaSettings(model=model, quantization=quantization),  # type: ignore[arg-type]
                         GenerationSettings(), device="cuda")
    start = time.perf_counter()
    gen.load()
    load_s = time.perf_counter() - start
    weights = (torch.cuda.memory_allocated() - base) / GIB
    run_once(gen, 4)  # warm-up: kernels, caches
    torch.cuda.reset_peak_memory_stats()
    prefill = [run_once(gen, 1) for _ in range(repeats)]
    full = [run_once(gen, new_tokens) for _ in range(repeats)]
    prefill_s = statistics.median(t for t, _, _ in prefill)
    total_s = statistics.median(t for t, _, _ in full)
    completion = full[0][2]
    result = {
        "quantization": quantization,
        "load_s": round(load_s, 1),
        "weights_gib": round(weights, 2),
        "peak_gib": round((torch.cuda.max_memory_allocated() - base) / GIB, 2),
        "prompt_tokens": full[0][1],
        "completion_tokens": completion,
        "prefill_ms": round(prefill_s * 1000, 1),
        "decode_tokens_per_s": round((completion - 1) / max(total_s - prefill_s, 1e-9), 1),
        "answer_s": round(total_s, 2),
    }
    del gen
    gc.collect()
    torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a LLaVA model folder or hub id (default: build one)")
    parser.add_argument("--quantization", nargs="+", default=["4bit", "8bit", "fp16"],
                        choices=["4bit", "8bit", "fp16", "bf16"])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    import torch
    import transformers

    if not torch.cuda.is_available():
        raise SystemExit("this benchmark needs a CUDA GPU")
    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
          f"transformers {transformers.__version__}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            from rag.testing.models import build_random_llava

            start = time.perf_counter()
            model = str(build_random_llava(Path(tmp) / "llava-1.5-7b", "llava-1.5-7b",
                                           dtype="float16", device="cuda"))
            gc.collect()
            torch.cuda.empty_cache()
            size = sum(f.stat().st_size for f in Path(model).iterdir()) / GIB
            print(f"built a random llava-1.5-7b-shaped model ({size:.1f} GiB fp16) in "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
        results = []
        for q in args.quantization:
            r = measure(model, q, args.new_tokens, args.repeats)
            results.append(r)
            print(json.dumps(r), flush=True)
    print(f"\n| precision | load s | weights GiB | peak GiB | prompt tokens | prefill ms "
          f"| decode tokens/s | {args.new_tokens}-token answer s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['quantization']} | {r['load_s']} | {r['weights_gib']} | {r['peak_gib']} "
              f"| {r['prompt_tokens']} | {r['prefill_ms']} | {r['decode_tokens_per_s']} "
              f"| {r['answer_s']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
