"""Streaming generation with a Hugging Face model, shared by the llava and local backends.

One generation runs at a time per model (a lock): concurrent requests queue rather than
compete for one GPU. A consumer that stops reading (a client that disconnects) stops the
generation at the next token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from rag.errors import RagError
from rag.protocols import GenerationChunk
from rag.schema import Usage


def attention_backends(model: Any) -> AbstractContextManager[Any]:
    """Scaled-dot-product attention without cuDNN's kernel, on CUDA. cuDNN builds an execution
    graph for every new shape and caches it per thread; decoding has a new length at every
    token and each generation runs in a new thread, so every token paid for a graph build. On
    an H100, eval/bench/llava_gpu.py decoded a 7B LLaVA at 9 tokens/s in fp16 that way and at
    29 with flash or memory-efficient attention (docs/performance.md, "LLaVA on a GPU")."""
    if getattr(getattr(model, "device", None), "type", None) != "cuda":
        return nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION,
                        SDPBackend.MATH])


def stream_generate(model: Any, tokenizer: Any, inputs: dict[str, Any], lock: threading.Lock,
                    max_new_tokens: int, temperature: float = 0.0, top_p: float | None = None,
                    stop: list[str] | None = None) -> Iterator[GenerationChunk]:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    cancel = threading.Event()

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool,
                              device=input_ids.device)

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs: dict[str, Any] = dict(
        **inputs,
        max_new_tokens=max_new_tokens,
        streamer=streamer,
        stopping_criteria=StoppingCriteriaList([_Cancelled()]),
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None
        else tokenizer.eos_token_id,
    )
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature, top_p=top_p or 1.0)
    else:
        kwargs.update(do_sample=False)
    if stop:
        kwargs.update(stop_strings=stop, tokenizer=tokenizer)
    prompt_tokens = int(inputs["input_ids"].shape[1])
    result: dict[str, Any] = {}

    def run() -> None:
        with lock:
            try:
                with torch.inference_mode(), attention_backends(model):
                    result["out"] = model.generate(**kwargs)
            except BaseException as e:  # reported to the consumer below
                result["error"] = e
                streamer.end()

    worker = threading.Thread(target=run, name="mmrag-generate", daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield GenerationChunk(piece)
        worker.join()
    finally:
        cancel.set()
    if "error" in result:
        e = result["error"]
        raise RagError(f"generation failed: {type(e).__name__}: {e}") from e
    completion = int(result["out"].shape[1]) - prompt_tokens
    yield GenerationChunk("", usage=Usage(prompt_tokens, completion),
                          finish_reason="length" if completion >= max_new_tokens else "stop")
