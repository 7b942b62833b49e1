"""ClipEmbedder: images and texts into CLIP's joint space (transformers CLIPModel)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import bf16, checks, exports, image_bf16, onnx, precision, standalone
from rag.embedders.batching import CACHE, Batcher
from rag.embedders.hub import load_pretrained, resolve_device
from rag.errors import ModelUnavailable
from rag.lazy import LazyLoaded, settle_again
from rag.settings import DEFAULT_CLIP_MODEL

log = logging.getLogger(__name__)


def _features(out: Any) -> Any:
    """transformers 5 returns a model output whose pooler_output holds the projected
    features; 4.x returned the tensor itself."""
    return out.pooler_output if hasattr(out, "pooler_output") else out


class ClipEmbedder(LazyLoaded):
    """Loaded once, on first use. ``preprocess`` is thread-safe and meant for loader threads;
    model calls are serialised by a lock. With ``query_runtime`` "onnx" on a CPU, short batches
    of texts (questions) run through ONNX Runtime (see ``onnx``), and concurrent ones are
    batched together (``batching``); PyTorch (ingestion) runs each tower in bf16 where the CPU
    has it and the check at load passes (``precision``), and pictures go through OpenVINO in
    bf16 where its own check passes too (``image_bf16``)."""

    def __init__(self, model: str = DEFAULT_CLIP_MODEL, device: str = "auto", batch_size: int = 32,
                 query_runtime: str = "onnx", cache_dir: Path | None = None,
                 precision: str = "auto", openvino: bool = True,
                 question_vectors: int = CACHE, openvino_requests: int = bf16.IDLE_REQUESTS):
        super().__init__()
        self.model_id = model
        self.device = device
        self.batch_size = batch_size
        self.query_runtime = query_runtime
        self.precision = precision
        self.openvino = precision == "auto" and openvino  # bf16 through OpenVINO, if it checks
        self.bf16_text = self.bf16_image = False  # decided when the model loads
        self.cache_dir = cache_dir or exports.default_cache_dir()
        self._short = onnx.EncoderSlot(self._build_short)
        self._quick = onnx.EncoderSlot(self._find_quick)
        self._requests = openvino_requests  # idle OpenVINO requests kept per encoder
        # questions of concurrent requests
        self._batcher = Batcher(self._embed_short, cache=question_vectors)
        self._fast_pixels: _FastPixels | None = None
        self._images: image_bf16.OpenVinoImages | None = None  # the image tower in bf16
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
        self._fast_pixels = _FastPixels.check(processor.image_processor)
        log.info("CLIP model %s loaded on %s", self.model_id, device)
        rng = np.random.default_rng(0)
        size = int(model.config.vision_config.image_size)
        probe_pixels = torch.from_numpy(rng.normal(size=(2, 3, size, size)).astype(np.float32))
        self.bf16_image = precision.choose(
            f"CLIP {self.model_id} (images)", self.precision, device,
            lambda bf16: self._run(model.get_image_features, bf16, pixel_values=probe_pixels))
        if self.bf16_image and self.openvino and device == "cpu":
            ramp = np.broadcast_to(np.linspace(-1.8, 2.1, size, dtype=np.float32),
                                   (1, 3, size, size))  # smooth, as photos mostly are
            key = exports.fingerprint("clip-image", self.model_id, self.model_id)
            self._images = image_bf16.compile_checked(
                model, lambda px: _features(model.get_image_features(pixel_values=px)),
                {"pixel_values": np.concatenate([probe_pixels.numpy(), ramp])},
                self.cache_dir / f"clip-image-{key}.onnx",
                lambda feed: self._run(model.get_image_features, False,
                                       pixel_values=torch.from_numpy(feed["pixel_values"])))
        self.bf16_text = precision.choose(
            f"CLIP {self.model_id} (texts)", self.precision, device,
            lambda bf16: self._embed_text_torch(onnx.PROBES, bf16))
        settle_again()

    def quick_start(self) -> bool:
        """Whether questions can be embedded before the model loads: a checked ONNX export of
        its text tower and its tokenizer are cached (``onnx.quick``)."""
        return not self._loaded and self._quick.get() is not None

    def _find_quick(self) -> onnx.OnnxEncoder | None:
        if self.query_runtime != "onnx" or not onnx.on_cpu(self.device):
            return None
        key = exports.fingerprint("clip-text", self.model_id, self.model_id)
        return onnx.quick(self.cache_dir / f"clip-text-{key}.onnx", self.openvino,
                          self._requests)

    @property
    def dimension(self) -> int:
        if not self._loaded and (quick := self._quick.get()) is not None:
            return quick.dimension
        self.load()
        return int(self._model.config.projection_dim)

    @property
    def image_size(self) -> int:
        self.load()
        return int(self._model.config.vision_config.image_size)

    def preprocess(self, images: Sequence[Any]) -> Any:
        """PIL images (RGB) -> pixel tensor. Runs without the model lock."""
        self.load()
        if self._fast_pixels is not None:
            import torch

            return torch.from_numpy(np.stack([self._fast_pixels(im) for im in images]))
        return self._processor.image_processor(images=list(images), return_tensors="pt")[
            "pixel_values"
        ]

    def _run(self, fn: Any, bf16: bool, **inputs: Any) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode(), precision.autocast(bf16):
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
        if (images := self._images) is not None:
            with self._lock:
                return np.concatenate([images(np.asarray(pixels[i: i + self.batch_size]))
                                       for i in range(0, len(pixels), self.batch_size)])
        parts = [
            self._run(self._model.get_image_features, self.bf16_image,
                      pixel_values=pixels[i : i + self.batch_size])
            for i in range(0, len(pixels), self.batch_size)
        ]
        return np.concatenate(parts)

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        return self.embed_pixels(self.preprocess(images))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= onnx.SHORT_BATCH:
            return self.embed_questions(texts)
        return self.load()._embed_text_torch(texts)  # a quick start has not loaded them

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._batcher(texts)

    def _embed_short(self, texts: Sequence[str]) -> np.ndarray:
        return onnx.embed_short(texts, self._quick, self._short,
                                lambda texts: self._tokenize(texts, "np"),
                                lambda texts: self._embed_text_torch(texts, bf16=False))

    @property
    def question_runtime(self) -> str:
        """What embeds a question: "onnx" or "torch" (builds the ONNX encoder if need be)."""
        return "torch" if self.question_encoder() is None else "onnx"

    def question_encoder(self) -> onnx.OnnxEncoder | None:
        """The checked ONNX export questions go through (built if need be), or None when
        they go through PyTorch."""
        self.load()
        return self._short.get()

    def _tokenize(self, texts: Sequence[str], tensors: str) -> Any:
        with self._lock:
            return dict(self._processor.tokenizer(
                list(texts), padding=True, truncation=True, return_tensors=tensors,
                max_length=self._model.config.text_config.max_position_embeddings))

    def _embed_text_torch(self, texts: Sequence[str], bf16: bool | None = None) -> np.ndarray:
        tok = self._tokenize(texts, "pt")
        return self._run(self._model.get_text_features, self.bf16_text if bf16 is None else bf16,
                         input_ids=tok["input_ids"], attention_mask=tok["attention_mask"])

    def _build_short(self) -> onnx.OnnxEncoder | None:
        self.load()
        if self.query_runtime != "onnx" or self._device != "cpu":
            return None
        if (quick := self._quick.get()) is not None:
            return quick  # checked, and loaded already
        import torch

        model = self._model

        def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
            return _features(model.get_text_features(input_ids=input_ids,
                                                     attention_mask=attention_mask))

        tok = self._tokenize(["What is the travel policy?", "hello"], "np")
        example = {k: tok[k] for k in ("input_ids", "attention_mask")}
        key = exports.fingerprint("clip-text", self.model_id, self.model_id)
        return checks.build(model, forward, example, self.cache_dir / f"clip-text-{key}.onnx",
                          lambda texts: self._tokenize(texts, "np"),
                          lambda texts: self._embed_text_torch(texts, bf16=False),
                          standalone.from_model(
                              self._processor.tokenizer,
                              int(model.config.text_config.max_position_embeddings)),
                          bf16_wanted=self.openvino, requests=self._requests)


class _FastPixels:
    """CLIP's standard preprocessing (shortest side to ``size`` with bicubic, centre crop,
    rescale, normalise) done directly on the PIL image: the same pixels as the transformers
    image processor (checked when the model loads) in about two thirds of the time, which
    counts on a CPU where loader threads share the cores with the model."""

    def __init__(self, proc: Any):
        self.size = int(proc.size["shortest_edge"])
        self.crop = (int(proc.crop_size["width"]), int(proc.crop_size["height"]))
        self.scale = np.float32(proc.rescale_factor)
        self.mean = np.asarray(proc.image_mean, dtype=np.float32)
        self.std = np.asarray(proc.image_std, dtype=np.float32)

    @classmethod
    def check(cls, proc: Any) -> _FastPixels | None:
        """The fast path for a processor configured like CLIP's, if it gives the processor's
        pixels on probe images; None otherwise (the processor itself is used)."""
        from PIL import Image

        try:
            standard = (proc.do_resize and proc.size.get("shortest_edge") and proc.do_center_crop
                        and proc.do_rescale and proc.do_normalize and not getattr(proc, "do_pad", 0)
                        and int(proc.resample) == int(Image.Resampling.BICUBIC))
            if not standard:
                return None
            fast = cls(proc)
            rng = np.random.default_rng(0)
            for w, h in ((301, 199), (90, 700), (40, 30)):
                im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
                want = np.asarray(proc(images=[im], return_tensors="np")["pixel_values"][0])
                got = fast(im)
                if got.shape != want.shape or float(np.abs(got - want).max()) > 1e-4:
                    return None
            return fast
        except Exception:  # an unusual processor: use it as it is
            return None

    def __call__(self, im: Any) -> np.ndarray:
        from PIL import Image

        w, h = im.size
        nw, nh = ((self.size, int(self.size * h / w)) if w <= h
                  else (int(self.size * w / h), self.size))
        im = im.resize((nw, nh), Image.Resampling.BICUBIC)
        cw, ch = self.crop
        left, top = (nw - cw) // 2, (nh - ch) // 2
        im = im.crop((left, top, left + cw, top + ch))
        pixels = np.asarray(im.convert("RGB"), dtype=np.float32) * self.scale
        return ((pixels - self.mean) / self.std).transpose(2, 0, 1)
