"""bf16 where the CPU has it, checked per model against fp32 at load; fp32 when asked, when the
CPU lacks it, or when the check fails."""

from __future__ import annotations

import logging

import numpy as np

from rag.embedders import precision
from rag.embedders.clip import ClipEmbedder
from rag.embedders.text import SentenceTransformerEmbedder

PASSAGES = ["Submit every expense claim within 30 days of the end of the trip.",
            "Guests connect to the Wi-Fi network 'Visitors'; the password changes monthly.",
            "How long must passwords be?"] * 4  # 12 texts: the PyTorch path


def test_models_follow_the_cpu_and_match_fp32(text_embedder, clip):
    native = precision.supported("cpu")
    assert text_embedder.bf16 == clip.bf16_text == clip.bf16_image == native
    for run in (text_embedder._embed_torch, clip._embed_text_torch):
        fast, exact = run(PASSAGES), run(PASSAGES, bf16=False)
        assert ((fast * exact).sum(axis=1) >= precision.MIN_COSINE).all()


def test_fp32_when_asked(tiny_clip_dir, tmp_path):
    assert not SentenceTransformerEmbedder("all-MiniLM-L6-v2", "cpu", cache_dir=tmp_path,
                                           precision="fp32").load().bf16
    c = ClipEmbedder(str(tiny_clip_dir), "cpu", cache_dir=tmp_path, precision="fp32").load()
    assert not c.bf16_text and not c.bf16_image


def test_a_model_whose_bf16_vectors_drift_stays_in_fp32(monkeypatch, caplog):
    monkeypatch.setattr(precision, "supported", lambda device: True)
    rng = np.random.default_rng(0)
    exact = rng.normal(size=(3, 16))
    drifted = exact + rng.normal(scale=0.05, size=exact.shape)
    with caplog.at_level(logging.WARNING):
        assert not precision.choose("probe model", "auto", "cpu",
                                    lambda bf16: drifted if bf16 else exact)
    assert "probe model stays in fp32" in caplog.text and "worst cosine" in caplog.text
    assert precision.choose("probe model", "auto", "cpu", lambda bf16: exact)


def test_a_model_that_fails_in_bf16_stays_in_fp32(monkeypatch, caplog):
    monkeypatch.setattr(precision, "supported", lambda device: True)

    def embed(bf16: bool) -> np.ndarray:
        if bf16:
            raise RuntimeError("no bf16 kernel for this operator")
        return np.ones((1, 4))

    with caplog.at_level(logging.INFO):
        assert not precision.choose("probe model", "auto", "cpu", embed)
    assert "no bf16 kernel" in caplog.text


def test_never_on_cuda():
    assert not precision.supported("cuda")


def test_questions_on_pytorch_are_embedded_in_fp32(tmp_path):
    """Questions on PyTorch (``query_runtime`` "torch") do not take ingestion's bf16: under
    load it made the server slower (bf16 questions go through OpenVINO, test_openvino_bf16)."""
    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2", "cpu", query_runtime="torch",
                                      cache_dir=tmp_path).load()
    question = ["How many days do I have to submit my travel expenses?"]
    assert np.allclose(emb.embed(question), emb._embed_torch(question, bf16=False), atol=1e-6)
