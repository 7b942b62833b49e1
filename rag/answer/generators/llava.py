"""LlavaGenerator: a local LLaVA (transformers LlavaForConditionalGeneration) that sees the
retrieved images. On CUDA it loads 4-bit NF4 with double quantization through bitsandbytes
by default (8-bit, fp16 and bf16 on request); on the CPU it runs fp32, which is only sensible
for tiny models."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from rag.answer.generators.hf import stream_generate
from rag.answer.generators.images import load_rgb
from rag.answer.prompt import build_prompt
from rag.embedders.hub import load_pretrained, resolve_device
from rag.errors import ModelUnavailable
from rag.lazy import LazyLoaded
from rag.protocols import GenerationChunk, GenerationRequest
from rag.sections import GenerationSettings, LlavaSettings

log = logging.getLogger(__name__)


def quantization_kwargs(quantization: str, device: str) -> dict[str, Any]:
    """from_pretrained arguments for the requested precision on this device."""
    import torch

    if device != "cuda":
        return {"dtype": torch.float32}
    if quantization in ("4bit", "8bit"):
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError as e:
            raise ModelUnavailable(
                f"{quantization} needs bitsandbytes: pip install 'mmrag[gpu]' ({e}), or set "
                "MMRAG_LLAVA__QUANTIZATION=fp16"
            ) from e
        if quantization == "4bit":
            q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.float16)
        else:
            q = BitsAndBytesConfig(load_in_8bit=True)
        return {"quantization_config": q, "dtype": torch.float16, "device_map": {"": 0}}
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "none": torch.float32}[quantization]
    return {"dtype": dtype}


class LlavaGenerator(LazyLoaded):
    name = "llava"
    supports_images = True
    supports_streaming = True

    def __init__(self, settings: LlavaSettings, generation: GenerationSettings,
                 device: str = "auto"):
        super().__init__()
        self.settings = settings
        self.generation = generation
        self.device = device
        self._model: Any = None
        self._processor: Any = None
        self._run_lock = threading.Lock()  # one generation at a time: requests queue

    def _load(self) -> None:
        try:
            from transformers import AutoProcessor, LlavaForConditionalGeneration
        except ImportError as e:
            raise ModelUnavailable(f"transformers is not installed ({e})") from e
        spec = self.settings.model
        device = resolve_device(self.device)
        kwargs = quantization_kwargs(self.settings.quantization, device)
        if device == "cpu":
            log.warning("LLaVA on the CPU runs in fp32: fine for tiny test models, far too slow "
                        "for a 7B model")

        def load(offline: bool) -> tuple[Any, Any]:
            return (AutoProcessor.from_pretrained(spec, local_files_only=offline),
                    LlavaForConditionalGeneration.from_pretrained(
                        spec, local_files_only=offline, **kwargs))

        processor, model = load_pretrained("LLaVA model", spec, "MMRAG_LLAVA__MODEL", load)
        if "device_map" not in kwargs:
            model = model.to(device)
        self._model = model.eval()
        self._processor = processor

    def inputs(self, request: GenerationRequest) -> dict[str, Any]:
        self.load()
        tok = self._processor.tokenizer
        g = self.generation
        prompt = build_prompt(request, g.context_tokens, g.max_images,
                              count=lambda t: len(tok(t)["input_ids"]))
        pictures: list[str | bytes] = [*prompt.question_images,
                                       *(path for _, path in prompt.images)]
        content: list[dict[str, Any]] = [{"type": "image"} for _ in pictures]
        content.append({"type": "text", "text": f"{prompt.system}\n\n{prompt.user}"})
        text = self._processor.apply_chat_template([{"role": "user", "content": content}],
                                                   add_generation_prompt=True)
        images = [load_rgb(p) for p in pictures] or None
        batch = self._processor(images=images, text=text, return_tensors="pt")
        model = self._model
        out = {}
        for k, v in batch.items():
            v = v.to(model.device)
            out[k] = v.to(model.dtype) if k == "pixel_values" and v.is_floating_point() else v
        return out

    def generate(self, request: GenerationRequest) -> Iterator[GenerationChunk]:
        inputs = self.inputs(request)
        o = request.options
        yield from stream_generate(
            self._model, self._processor.tokenizer, inputs, self._run_lock,
            max_new_tokens=request.max_tokens, temperature=request.temperature,
            top_p=o.get("top_p"), stop=o.get("stop"))
