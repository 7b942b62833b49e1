"""ClipEmbedder: images and texts into CLIP's joint space (transformers CLIPModel)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ModelUnavailable
from ..lazy import LazyLoaded
from ..settings import DEFAULT_CLIP_MODEL
from .hub import load_pretrained, resolve_device

log = logging.getLogger(__name__)


def _features(out: Any) -> Any:
    """transformers 5 returns a model output whose pooler_output holds the projected
    features; 4.x returned the tensor itself."""
    return out.pooler_output if hasattr(out, "pooler_output") else out


class ClipEmbedder(LazyLoaded):
    """Loaded once, on first use. ``preprocess`` is thread-safe and meant for loader threads;
    model calls are serialised by a lock."""

    def __init__(self, model: str = DEFAULT_CLIP_MODEL, device: str = "auto", batch_size: int = 32):
        super().__init__()
        self.model_id = model
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._processor: Any = None
        self._lock = threading.Lock()  # one model call at a time

    def _load(self) -> None:
        try:
            import torch
            from transformers import CLIPModel, CLIPProcessor
            from transformers.utils import logging as hf_logging
        except ImportError as e:
            raise ModelUnavailable(f"transformers/torch are not installed ({e})") from e
        device = resolve_device(self.device)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the torchvision fallback notice is noise here

        def load(offline: bool) -> tuple[Any, Any]:
            processor = CLIPProcessor.from_pretrained(self.model_id, local_files_only=offline)
            model = CLIPModel.from_pretrained(
                self.model_id, local_files_only=offline,
                dtype=torch.float16 if device == "cuda" else torch.float32)
            return processor, model

        try:
            processor, model = load_pretrained("CLIP model", self.model_id,
                                               "MMRAG_CLIP_MODEL", load)
        finally:
            hf_logging.set_verbosity(verbosity)
        self._processor = processor
        self._model = model.to(device).eval()
        self._device = device
        log.info("CLIP model %s loaded on %s", self.model_id, device)

    @property
    def dimension(self) -> int:
        self.load()
        return int(self._model.config.projection_dim)

    @property
    def image_size(self) -> int:
        self.load()
        return int(self._model.config.vision_config.image_size)

    def preprocess(self, images: Sequence[Any]) -> Any:
        """PIL images (RGB) -> pixel tensor. Runs without the model lock."""
        self.load()
        return self._processor.image_processor(images=list(images), return_tensors="pt")[
            "pixel_values"
        ]

    def _run(self, fn: Any, **inputs: Any) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            inputs = {k: v.to(self._device) for k, v in inputs.items()}
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(self._model.dtype)
            feats = _features(fn(**inputs)).float()
            feats = torch.nn.functional.normalize(feats, dim=-1)
        return feats.cpu().numpy().astype(np.float32)

    def embed_pixels(self, pixels: Any) -> np.ndarray:
        self.load()
        if len(pixels) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self._run(self._model.get_image_features, pixel_values=pixels[i : i + self.batch_size])
            for i in range(0, len(pixels), self.batch_size)
        ]
        return np.concatenate(parts)

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        return self.embed_pixels(self.preprocess(images))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        tok = self._processor.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self._model.config.text_config.max_position_embeddings,
            return_tensors="pt",
        )
        return self._run(
            self._model.get_text_features,
            input_ids=tok["input_ids"],
            attention_mask=tok["attention_mask"],
        )
