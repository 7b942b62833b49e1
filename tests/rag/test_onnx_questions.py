"""Questions run through ONNX Runtime exports of the text encoders; the exports must give the
vectors PyTorch gives, be reused from the cache, and fall back to PyTorch on any trouble."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.embedders import exports, onnx
from rag.embedders.clip import ClipEmbedder
from rag.embedders.text import SentenceTransformerEmbedder

QUESTIONS = ["How long must passwords be?", "a red car", "what is the per diem for meals "
             "when travelling abroad for more than a week, and who approves it?"]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_questions_through_onnx_match_pytorch(text_embedder, clip):
    assert text_embedder.question_runtime == clip.question_runtime == "onnx"
    for emb in (text_embedder, clip):  # the file it came from (for eval/bench/question_precision)
        encoder = emb.question_encoder()
        assert encoder.path.is_file() and encoder.path.suffix == ".onnx"
    for batch in ([QUESTIONS[0]], [QUESTIONS[2]], QUESTIONS):  # padded batches too
        text = text_embedder.embed(batch)
        assert text.shape == (len(batch), 384)
        assert cosines(text, text_embedder._embed_torch(batch, bf16=False)).min() > 0.9999
        image = clip.embed_text(batch)
        assert cosines(image, clip._embed_text_torch(batch, bf16=False)).min() > 0.9999
    assert np.allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)


def test_long_batches_go_through_the_export_unless_pytorch_may_run_them_in_bf16(
        text_embedder, monkeypatch, tmp_path):
    many = [f"chunk number {i} of a longer document" for i in range(onnx.SHORT_BATCH * 3)]
    want = text_embedder._embed_torch(many, bf16=False)
    calls = []
    real = onnx.OnnxEncoder.__call__
    monkeypatch.setattr(onnx.OnnxEncoder, "__call__",
                        lambda self, feed: calls.append(len(next(iter(feed.values()))))
                        or real(self, feed))
    got = text_embedder.embed(many)
    assert sum(calls) == len(many)  # every chunk through the export, in the model's batches
    assert max(calls) <= text_embedder.batch_size
    assert cosines(got, want).min() > 0.9999
    monkeypatch.setattr(onnx.OnnxEncoder, "__call__", lambda *a: pytest.fail("used ONNX"))
    on_torch = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2", "cpu",
                                           cache_dir=tmp_path, openvino=False)
    assert on_torch.embed(many).shape == (len(many), 384)


def test_the_export_is_cached_and_reused(tiny_clip_dir, tmp_path, monkeypatch):
    first = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    v = first.embed_text(["a red car"])
    (exported,) = tmp_path.glob("clip-text-*.onnx")
    monkeypatch.setattr(exports, "export", lambda *a: pytest.fail("exported again"))
    second = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert second.question_runtime == "onnx"
    assert cosines(second.embed_text(["a red car"]), v)[0] > 0.9999
    assert list(tmp_path.glob("clip-text-*.onnx")) == [exported]


def test_a_damaged_cache_file_is_exported_again(tiny_clip_dir, tmp_path, caplog):
    ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).embed_text(["warm up"])
    (exported,) = tmp_path.glob("clip-text-*.onnx")
    exported.write_bytes(b"not an onnx model")
    again = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        assert again.question_runtime == "onnx"
    assert "cannot be used" in caplog.text
    assert exported.stat().st_size > 1000


def test_no_onnx_package_means_pytorch(tiny_clip_dir, tmp_path, monkeypatch, caplog):
    def missing(*args):
        raise ModuleNotFoundError("No module named 'onnx'")

    monkeypatch.setattr(exports, "export", missing)
    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        v = emb.embed_text(["a red car"])
    assert emb.question_runtime == "torch"
    assert "No module named 'onnx'" in caplog.text and "PyTorch" in caplog.text
    # questions on PyTorch are embedded in fp32 (ingestion may run bf16)
    assert cosines(v, emb._embed_text_torch(["a red car"], bf16=False))[0] > 0.99999


def test_an_export_that_differs_is_thrown_away(tiny_clip_dir, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(onnx, "MIN_COSINE", 1.5)  # nothing can match this well
    emb = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        assert emb.question_runtime == "torch"
    assert "differs" in caplog.text
    assert not list(tmp_path.glob("clip-text-*.onnx"))  # the image tower's is kept, see image_bf16


def test_torch_runtime_setting_skips_onnx(tmp_path):
    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2", "cpu", query_runtime="torch",
                                      cache_dir=tmp_path)
    assert emb.embed(["hello"]).shape == (1, 384)
    assert emb.question_runtime == "torch" and not list(tmp_path.iterdir())


def test_an_export_is_checked_against_pytorch_once(tiny_clip_dir, tmp_path, monkeypatch):
    ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).embed_text(["warm up"])
    (exported,) = tmp_path.glob("clip-text-*.onnx")
    assert exported.with_suffix(".checked").is_file()
    checks = []
    real = onnx.worst_cosine
    monkeypatch.setattr(onnx, "worst_cosine", lambda *a: checks.append(1) or real(*a))
    again = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert again.question_runtime == "onnx" and not checks  # a later start: no PyTorch runs
    exported.touch()  # the file changed since its check: checked again
    third = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert third.question_runtime == "onnx" and checks


def test_two_encoders_exported_at_once_both_export(tiny_clip_dir, tmp_path):
    """The retriever builds CLIP's question encoder in another thread than the text model's:
    the exporter's global state must not make one of them fall back to PyTorch."""
    embedders = [ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path / str(i)).load()
                 for i in range(3)]
    start = threading.Barrier(len(embedders))

    def build(emb: ClipEmbedder) -> str:
        start.wait()
        return emb.question_runtime

    with ThreadPoolExecutor(len(embedders)) as pool:
        assert list(pool.map(build, embedders)) == ["onnx"] * len(embedders)
