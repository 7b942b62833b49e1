"""A start with the question encoders cached answers questions before PyTorch and the weights
load: the export's check and the model's own tokenizer are kept beside it, and used only when
they give the very same features. The weights load only for what needs them (ingestion, a
question with a picture), and the questions stay on the cached export."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.chunking import Chunker
from ingest.pipeline import Ingestor, Source
from rag.embedders import standalone
from rag.embedders.clip import ClipEmbedder
from rag.embedders.text import SentenceTransformerEmbedder
from rag.schema import Query
from rag.service import RagService
from rag.settings import DEFAULT_TEXT_MODEL, Settings

QUESTIONS = ["How long must passwords be?", "  a red car \n",
             "what is the per diem for meals when travelling abroad for more than a week?"]


def exported(tiny_clip_dir: Path, cache: Path) -> tuple[SentenceTransformerEmbedder,
                                                         ClipEmbedder]:
    """Embedders that loaded the models and exported (and checked) their question encoders."""
    text = SentenceTransformerEmbedder(DEFAULT_TEXT_MODEL, "cpu", cache_dir=cache)
    clip = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=cache)
    assert text.question_runtime == clip.question_runtime == "onnx"
    return text, clip


def test_questions_are_embedded_before_the_weights_load(tiny_clip_dir, tmp_path):
    text, clip = exported(tiny_clip_dir, tmp_path)
    assert sorted(p.name.split("-")[0] for p in tmp_path.glob("*.tokenizer.json")) == [
        "clip", "text"]
    quick_text = SentenceTransformerEmbedder(DEFAULT_TEXT_MODEL, "cpu", cache_dir=tmp_path)
    quick_clip = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert quick_text.quick_start() and quick_clip.quick_start()
    for q in QUESTIONS:
        for fresh, loaded, exact in ((quick_text.embed, text.embed, text._embed_torch),
                                     (quick_clip.embed_text, clip.embed_text,
                                      clip._embed_text_torch)):
            v = fresh([q])
            assert float(v[0] @ loaded([q])[0]) >= 0.9999
            ref = exact([q], bf16=False)[0]
            assert float(v[0] @ ref / np.linalg.norm(ref)) >= 0.9999
    assert quick_text.dimension == 384 and quick_clip.dimension == clip.dimension
    assert quick_text.count_tokens(QUESTIONS) == text.count_tokens(QUESTIONS)
    assert not quick_text._loaded and not quick_clip._loaded  # all of that without weights
    quick_text.load()  # then the model: the quick path is over, the same encoder serves
    assert not quick_text.quick_start() and quick_text.question_runtime == "onnx"
    assert float(quick_text.embed([QUESTIONS[0]])[0] @ text.embed([QUESTIONS[0]])[0]) >= 0.9999


def test_a_tokenizer_that_differs_is_not_kept(tiny_clip_dir, tmp_path, monkeypatch):
    real = standalone.features

    def off_by_one(tokenizer, names, texts):
        out = real(tokenizer, names, texts)
        out["input_ids"] = out["input_ids"] + 1
        return out

    monkeypatch.setattr(standalone, "features", off_by_one)
    exported(tiny_clip_dir, tmp_path)
    assert not list(tmp_path.glob("*.tokenizer.json"))
    monkeypatch.undo()
    assert not ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).quick_start()
    assert not SentenceTransformerEmbedder(DEFAULT_TEXT_MODEL, "cpu",
                                           cache_dir=tmp_path).quick_start()


def test_a_changed_export_is_not_used_quickly(tiny_clip_dir, tmp_path):
    exported(tiny_clip_dir, tmp_path)
    (path,) = tmp_path.glob("clip-text-*.onnx")
    path.write_bytes(path.read_bytes())  # same bytes, a new modification time: not checked
    assert not ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path).quick_start()


def test_no_quick_start_unless_questions_run_on_onnx(tiny_clip_dir, tmp_path):
    exported(tiny_clip_dir, tmp_path)
    assert not ClipEmbedder(str(tiny_clip_dir), "cpu", query_runtime="torch",
                            cache_dir=tmp_path).quick_start()


def test_the_service_answers_at_once_and_loads_the_weights_only_for_what_needs_them(
        tiny_clip_dir, tmp_path):
    exported(tiny_clip_dir, tmp_path / "cache")
    # without word vectors to distil: a fresh cache would load the model for them (once)
    settings = Settings(data_dir=tmp_path / "data", clip_model=str(tiny_clip_dir), device="cpu",
                        cache_dir=tmp_path / "cache", answer_vectors="model", _env_file=None)
    svc = RagService.from_settings(settings)
    text, clip = svc.parts.text, svc.parts.images.embedder
    assert text.quick_start() and clip.quick_start()
    svc.warm_up()
    hits, _ = svc.retrieve(Query(text="How long must passwords be?"))
    assert hits == []
    svc.answer(Query(text="How long must passwords be?"))
    assert not text._loaded and not clip._loaded  # questions never needed the weights
    before = text.embed_questions(["How long must passwords be?"])
    report = Ingestor(svc).ingest([Source("policy.md", data=b"Passwords must be at least "
                                          b"12 characters long. " * 20)])
    assert report.files[0].status == "ingested"
    # chunks cut by the export's tokenizer and embedded by the export: no weights loaded
    assert not text._loaded and not text._short.ready and text._quick.ready
    after = text.embed(["what is the minimum password length?"])
    assert after.shape == (1, 384) and before.shape == (1, 384)
    hits, _ = svc.retrieve(Query(text="How long must passwords be?"))
    assert hits and "12 characters" in (hits[0].text or "")
    assert svc.images_error is None


def test_ingestion_from_the_export_cuts_and_embeds_chunks_as_the_model_does(tiny_clip_dir,
                                                                               tmp_path):
    text, _ = exported(tiny_clip_dir, tmp_path)
    quick = SentenceTransformerEmbedder(DEFAULT_TEXT_MODEL, "cpu", cache_dir=tmp_path)
    assert quick.quick_start() and quick.ready() is quick and not quick._loaded
    prose = (Path(__file__).parents[2] / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    chunks = Chunker(quick.new_tokenizer, 128, 24).split(prose)
    assert len(chunks) > 20 and chunks == Chunker(text.new_tokenizer, 128, 24).split(prose)
    got = quick.embed(chunks[:40])
    want = text._embed_torch(chunks[:40], bf16=False)
    assert got.shape == want.shape and float((got * want).sum(axis=1).min()) >= 0.9999
    assert not quick._loaded  # all of it without PyTorch's model
    # where PyTorch may run in bf16 and the export may not, chunks stay on PyTorch
    assert SentenceTransformerEmbedder(DEFAULT_TEXT_MODEL, "cpu", cache_dir=tmp_path,
                                       openvino=False).chunk_encoder() is None


def test_without_clip_a_warm_start_leaves_the_text_model_unloaded(tiny_clip_dir, tmp_path):
    exported(tiny_clip_dir, tmp_path / "cache")
    settings = Settings(data_dir=tmp_path / "data", clip_model=str(tmp_path / "no-clip"),
                        device="cpu", cache_dir=tmp_path / "cache", answer_vectors="model",
                        _env_file=None)
    svc = RagService.from_settings(settings)
    svc.warm_up()
    assert svc.images_error is not None  # no CLIP: questions run on text alone
    assert not svc.parts.text._loaded  # ... from the text model's export
    assert svc.parts.text.embed_questions(["How long must passwords be?"]).shape == (1, 384)


def test_many_texts_load_the_weights_first(tiny_clip_dir, tmp_path):
    """More texts than a batch of questions (a refit's 40 probe questions, after a text-only
    upload to a collection with pictures) go through the model: its weights load then."""
    _, clip = exported(tiny_clip_dir, tmp_path)
    quick = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path)
    assert quick.quick_start()
    texts = [f"a photo of a red car number {i}" for i in range(40)]
    vecs = quick.embed_text(texts)
    assert quick._loaded and vecs.shape == (40, clip.dimension)
    assert float(vecs[3] @ clip.embed_text(texts)[3]) >= 0.9999
