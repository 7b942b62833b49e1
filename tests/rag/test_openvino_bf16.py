"""bf16 through OpenVINO where the CPU has native bf16, for questions (the checked text
exports) and for pictures (CLIP's image tower, ingestion): checked once per export against fp32
PyTorch and recorded, read back by later starts, and fp32 ONNX Runtime (questions) or PyTorch
(pictures) whenever bf16 is not wanted, not available, fails or drifts."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.embedders import bf16, checks, exports, onnx
from rag.embedders.clip import ClipEmbedder
from rag.embedders.text import SentenceTransformerEmbedder

QUESTIONS = ["How long must passwords be?", "a red car", "what is the per diem for meals "
             "when travelling abroad for more than a week, and who approves it?"]

OpenVinoSession = bf16.OpenVinoSession  # before any test replaces it
needs_bf16 = pytest.mark.skipif(bf16.version() is None,
                                reason="this CPU has no native bf16 (or OpenVINO is missing)")


def record(emb: ClipEmbedder | SentenceTransformerEmbedder) -> dict:
    return json.loads(emb.question_encoder().path.with_suffix(".checked").read_text())


def runs_in_bf16(encoder: onnx.OnnxEncoder | None) -> bool:
    return encoder is not None and isinstance(encoder.session, OpenVinoSession)


@needs_bf16
def test_questions_run_in_bf16_and_match_fp32(tmp_path):
    """The real MiniLM: bf16 question vectors within the bar of fp32 PyTorch's, one at a time
    and in padded batches, and the verdict recorded with the export's check."""
    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2", "cpu", cache_dir=tmp_path).load()
    assert runs_in_bf16(emb.question_encoder())
    for batch in ([QUESTIONS[0]], [QUESTIONS[2]], QUESTIONS):
        fast, exact = emb.embed(batch), emb._embed_torch(batch, bf16=False)
        assert ((fast * exact).sum(axis=1) >= onnx.MIN_COSINE).all()
        assert not np.array_equal(fast, exact)  # bf16 for real, not fp32 under another name
    verdict = record(emb)["bf16"]
    assert verdict["openvino"] == bf16.version() and verdict["worst"] >= onnx.MIN_COSINE


@needs_bf16
def test_a_quick_start_reads_the_verdict(tiny_clip_dir, tmp_path, monkeypatch):
    first = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load()
    v = first.embed_text(QUESTIONS)
    assert runs_in_bf16(first.question_encoder())
    monkeypatch.setattr(checks, "in_bf16", lambda *a: pytest.fail("checked again"))
    second = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert second.quick_start() and not second._loaded
    assert runs_in_bf16(second._quick.get())
    assert np.allclose(second.embed_text(QUESTIONS), v, atol=1e-6)


@needs_bf16
def test_a_record_without_a_verdict_loads_the_model_once(tiny_clip_dir, tmp_path):
    """An export checked before bf16 questions existed (or by another OpenVINO): no quick
    start until the model has loaded and made the check."""
    ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load().embed_text(["warm up"])
    (checked,) = tmp_path.glob("clip-text-*.checked")
    rec = json.loads(checked.read_text())
    checked.write_text(json.dumps(rec | {"bf16": {"openvino": "0.0", "worst": 1.0}}))
    again = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert not again.quick_start()
    assert runs_in_bf16(again.question_encoder())  # the model loaded and checked it
    assert json.loads(checked.read_text())["bf16"]["openvino"] == bf16.version()
    assert ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).quick_start()


@needs_bf16
def test_a_recorded_drift_keeps_fp32(tiny_clip_dir, tmp_path):
    ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load().embed_text(["warm up"])
    (checked,) = tmp_path.glob("clip-text-*.checked")
    rec = json.loads(checked.read_text())
    checked.write_text(json.dumps(rec | {"bf16": {"openvino": bf16.version(), "worst": 0.99}}))
    again = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert again.quick_start() and not runs_in_bf16(again._quick.get())
    again.load()
    assert not runs_in_bf16(again.question_encoder())


@needs_bf16
def test_bf16_vectors_that_drift_keep_fp32(tiny_clip_dir, tmp_path, monkeypatch, caplog):
    """The check itself. A cosine that calls anything short of fp32's agreement 0.5 makes
    the bf16 vectors drift: questions stay in fp32, and the verdict is recorded."""
    real = onnx.worst_cosine
    # 1 - cosine against PyTorch, measured: fp32 0 on a quiet machine (a bar at 1e-7 failed
    # once under load: fp32 was taken for drifting bf16), bf16 7e-6 to 2.4e-5: the bar
    # sits between
    monkeypatch.setattr(onnx, "worst_cosine",
                        lambda a, b: real(a, b) if real(a, b) > 1 - 1e-6 else 0.5)
    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        assert emb.question_runtime == "onnx"
    assert not runs_in_bf16(emb.question_encoder())
    assert "stay in fp32" in caplog.text
    assert record(emb)["bf16"]["worst"] == 0.5


@needs_bf16
def test_openvino_that_fails_keeps_fp32(tiny_clip_dir, tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("Exception from src/inference/src/core.cpp: cannot compile")

    monkeypatch.setattr(bf16, "OpenVinoSession", broken)
    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        v = emb.embed_text(["a red car"])
    assert emb.question_runtime == "onnx" and not runs_in_bf16(emb.question_encoder())
    assert "OpenVINO failed" in caplog.text and "cannot compile" in caplog.text
    assert (v * emb._embed_text_torch(["a red car"], bf16=False)).sum() > 0.9999


def test_fp32_when_asked_or_when_the_cpu_lacks_bf16(tiny_clip_dir, tmp_path, monkeypatch):
    asked = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path / "a", precision="fp32")
    assert asked.question_runtime == "onnx" and not runs_in_bf16(asked.question_encoder())
    assert "bf16" not in record(asked)
    monkeypatch.setattr(bf16, "version", lambda: None)
    lacking = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path / "b")
    assert lacking.question_runtime == "onnx" and not runs_in_bf16(lacking.question_encoder())
    assert "bf16" not in record(lacking)
    quick = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path / "b")
    assert quick.quick_start() and not runs_in_bf16(quick._quick.get())


@needs_bf16
def test_concurrent_calls_get_their_own_vectors(text_embedder):
    """One compiled model, many request threads: each call gets its own result."""
    encoder = text_embedder.question_encoder()
    assert runs_in_bf16(encoder)
    texts = [f"question number {i} about the travel policy" for i in range(40)]
    alone = np.concatenate([encoder.texts([t]) for t in texts])
    with ThreadPoolExecutor(8) as pool:
        together = np.concatenate(list(pool.map(lambda t: encoder.texts([t]), texts)))
    assert np.array_equal(alone, together)
    assert 1 <= encoder.session._idle.qsize() <= bf16.IDLE_REQUESTS  # the pool is bounded


# CLIP's image tower (ingestion) in bf16 on OpenVINO: the same check, its own export

def pictures() -> list:
    from PIL import Image

    ramp = np.linspace(0, 255, 64, dtype=np.uint8)
    return [Image.fromarray(np.stack([np.tile(ramp, (64, 1))] * 3, axis=-1)),
            Image.new("RGB", (40, 90), (200, 30, 30))]


@needs_bf16
def test_pictures_run_in_bf16_and_match_fp32(tiny_clip_dir, tmp_path, monkeypatch):
    import torch

    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load()
    assert isinstance(emb._images.session, OpenVinoSession)
    pixels = emb.preprocess(pictures())
    fast = emb.embed_pixels(pixels)
    with torch.inference_mode():
        exact = emb._run(emb._model.get_image_features, False, pixel_values=pixels)
    assert ((fast * exact).sum(axis=1) >= onnx.MIN_COSINE).all()
    (checked,) = tmp_path.glob("clip-image-*.checked")
    assert json.loads(checked.read_text())["bf16"]["worst"] >= onnx.MIN_COSINE
    monkeypatch.setattr(exports, "export", lambda *a, **k: pytest.fail("exported again"))
    again = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load()
    assert again._images is not None
    assert np.allclose(again.embed_images(pictures()), fast, atol=1e-6)


@needs_bf16
def test_pictures_stay_on_pytorch_when_openvino_fails_or_drifts(tiny_clip_dir, tmp_path,
                                                               monkeypatch, caplog):
    real = bf16.OpenVinoSession

    def broken(*args, **kwargs):
        raise RuntimeError("Exception from src/inference/src/core.cpp: cannot compile")

    monkeypatch.setattr(bf16, "OpenVinoSession", broken)
    with caplog.at_level(logging.WARNING):
        failed = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load()
    assert failed._images is None and failed.bf16_image  # bf16 PyTorch, as before
    assert "pictures stay on PyTorch" in caplog.text and "cannot compile" in caplog.text
    assert failed.embed_images(pictures()).shape == (2, failed.dimension)
    monkeypatch.setattr(bf16, "OpenVinoSession", real)
    (export,) = tmp_path.glob("clip-image-*.onnx")
    exports.remember(export, bf16={"openvino": bf16.version(), "worst": 0.99})
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        drifted = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).load()
    assert drifted._images is None and "0.990000" in caplog.text


def test_pictures_on_pytorch_when_fp32_is_asked(tiny_clip_dir, tmp_path):
    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path, precision="fp32").load()
    assert emb._images is None and not list(tmp_path.glob("clip-image-*"))


def test_openvino_switched_off(tiny_clip_dir, tmp_path, settings):
    """``MMRAG_OPENVINO=false``: questions on ONNX Runtime in fp32, pictures on PyTorch (in
    bf16 where the CPU has it), for less memory."""
    from rag.embedders import precision
    from rag.parts import Parts

    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path, openvino=False).load()
    assert emb._images is None and not runs_in_bf16(emb.question_encoder())
    assert emb.bf16_image == precision.supported("cpu")
    assert "bf16" not in record(emb) and not list(tmp_path.glob("clip-image-*"))
    parts = Parts.from_settings(settings.model_copy(update={"openvino": False}))
    assert not parts.text.openvino and not parts.images.embedder.openvino
