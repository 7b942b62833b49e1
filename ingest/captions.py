"""Captions at ingest (off by default): a captioning model (BLIP-2 through transformers,
4-bit capable on CUDA) or a vision generator (LLaVA, or GPT-4o / an OpenAI-compatible model)
describes each picture, and the caption is indexed as text that links back to the picture,
like OCR text. Captioning runs one picture at a time."""

from __future__ import annotations

import io
import threading
from typing import Any

from rag.answer.generators.base import collect
from rag.answer.generators.hf import attention_backends
from rag.errors import InvalidInput
from rag.lazy import LazyLoaded
from rag.protocols import GenerationRequest, Generator

PROMPT = ("Describe this picture in one or two factual sentences: what it shows, and any "
          "visible text.")


class GeneratorCaptioner:
    def __init__(self, generator: Generator, max_tokens: int = 60):
        if not generator.supports_images:
            raise InvalidInput(f"the {generator.name} generator cannot see images; caption with "
                               "llava or openai (MMRAG_INGEST__CAPTION_GENERATOR)")
        self.generator = generator
        self.max_tokens = max_tokens
        self._lock = threading.Lock()

    def caption(self, image: Any) -> str:
        """``image``: an RGB PIL image."""
        buf = io.BytesIO()
        image.save(buf, "PNG")
        request = GenerationRequest(PROMPT, [], question_images=[buf.getvalue()],
                                    max_tokens=self.max_tokens, options={"stream": False})
        with self._lock:
            return collect(self.generator.generate(request))[0].strip()


class Blip2Captioner(LazyLoaded):
    """BLIP-2 (default Salesforce/blip2-opt-2.7b), loaded once on first use."""

    def __init__(self, model: str, device: str = "auto", quantization: str = "4bit",
                 max_tokens: int = 40):
        super().__init__()
        self.model_id = model
        self.device = device
        self.quantization = quantization
        self.max_tokens = max_tokens
        self._model: Any = None
        self._processor: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        from transformers import Blip2ForConditionalGeneration, Blip2Processor

        from rag.answer.generators.llava import quantization_kwargs
        from rag.embedders.hub import load_pretrained, resolve_device

        device = resolve_device(self.device)
        kwargs = quantization_kwargs(self.quantization, device)

        def load(offline: bool) -> tuple[Any, Any]:
            return (Blip2Processor.from_pretrained(self.model_id, local_files_only=offline),
                    Blip2ForConditionalGeneration.from_pretrained(
                        self.model_id, local_files_only=offline, **kwargs))

        self._processor, model = load_pretrained(
            "captioning model", self.model_id, "MMRAG_INGEST__CAPTION_MODEL", load)
        self._model = (model if "device_map" in kwargs else model.to(device)).eval()

    def caption(self, image: Any) -> str:
        import torch

        self.load()
        batch = self._processor(images=[image], return_tensors="pt")
        model = self._model
        inputs = {k: (v.to(model.device, model.dtype) if v.is_floating_point()
                      else v.to(model.device)) for k, v in batch.items()}
        tok = self._processor.tokenizer
        never = [i for i in (tok.bos_token_id, tok.pad_token_id, tok.unk_token_id)
                 if i is not None]  # a caption never contains these
        with self._lock, torch.inference_mode(), attention_backends(model):
            out = model.generate(**inputs, max_new_tokens=self.max_tokens,
                                 suppress_tokens=never)
        # the output starts with the image placeholders, which decode to nothing
        return str(self._processor.batch_decode(out, skip_special_tokens=True)[0]).strip()
