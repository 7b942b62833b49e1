"""Choosing a generator, and falling back when it fails."""

import pytest

from ingest.pipeline import Ingestor, Source
from rag.answer.generators import configured
from rag.errors import UpstreamError
from rag.schema import Query

from .openai_server import FakeOpenAI, Reply, completion

pytestmark = pytest.mark.slow
FAQ = b"Onboarding FAQ\n\nWhen is salary paid?\nSalaries are paid on the 25th of every month."


@pytest.fixture
def faq_service(service):
    Ingestor(service).ingest([Source("faq.txt", data=FAQ)])
    service.settings.openai.api_key = "sk-test"
    service.settings.openai.max_retries = 0
    return service


def test_openai_answers_and_its_citations_are_tracked(faq_service):
    with FakeOpenAI() as api:
        faq_service.settings.openai.base_url = api.base_url
        api.replies.append(Reply(body=completion("Salary is paid on the 25th [1].")))
        answer = faq_service.answer(Query(text="When is salary paid?"), generator="openai")
    assert answer.generator == "openai" and answer.text == "Salary is paid on the 25th [1]."
    assert answer.citations[0].cited and answer.citations[0].source == "faq.txt"
    assert answer.usage.total_tokens == 18
    sent = api.requests[0]["json"]["messages"][1]["content"][0]["text"]
    assert "Salaries are paid on the 25th" in sent


def test_failing_generator_falls_back_to_extractive_and_says_so(faq_service):
    faq_service.settings.openai.base_url = "http://127.0.0.1:9/v1"
    answer = faq_service.answer(Query(text="When is salary paid?"), generator="openai")
    assert answer.generator == "extractive" and "25th" in answer.text
    assert any("openai generator failed" in n for n in answer.notes)


def test_fallback_can_be_turned_off(faq_service):
    faq_service.settings.openai.base_url = "http://127.0.0.1:9/v1"
    faq_service.settings.generation.on_error = "error"
    with pytest.raises(UpstreamError):
        faq_service.answer(Query(text="When is salary paid?"), generator="openai")


def test_no_evidence_skips_the_model(faq_service):
    with FakeOpenAI() as api:
        faq_service.settings.openai.base_url = api.base_url
        answer = faq_service.answer(Query(text="Who won the 1998 football world cup?"),
                                    generator="openai")
    assert not answer.found and api.requests == []


def test_configured_generators(settings, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert "openai" not in configured(settings)
    settings.openai.api_key = "sk"
    names = configured(settings)
    assert names[0] == "extractive" and "openai" in names


def test_an_explicit_temperature_of_zero_is_kept(faq_service):
    faq_service.settings.generation.temperature = 0.7
    request, *_ = faq_service.prepare(Query(text="When is salary paid?"), "extractive",
                                      {"temperature": 0.0, "max_tokens": 20})
    assert request.temperature == 0.0 and request.max_tokens == 20
    request, *_ = faq_service.prepare(Query(text="When is salary paid?"), "extractive", {})
    assert request.temperature == 0.7


def test_two_first_requests_build_a_generator_once(service, monkeypatch):
    import threading
    import time

    import rag.service

    built = []

    def slow_build(name, settings):
        time.sleep(0.2)  # a model's adapter being made while a second request arrives
        built.append(name)
        return object()

    monkeypatch.setattr(rag.service, "build_generator", slow_build)
    got = []
    threads = [threading.Thread(target=lambda: got.append(service.generator("local")))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == ["local"] and got[0] is got[1]


def test_configure_rebuilds_what_is_built_from_settings(service):
    service.configure(lexical=False, max_per_document=0, refusal="background")
    assert service.retriever.lexical is None and service.retriever.max_per_document == 0
    assert service.settings.refusal == "background"
    service.configure(lexical=True, max_per_document=2, refusal="in-corpus")
    assert service.retriever.lexical is service.parts.lexical is not None
    assert service.retriever.max_per_document == 2


def test_extractive_usage_counts_the_question_and_the_passages_read_once(faq_service,
                                                                         monkeypatch):
    q = Query(text="When is salary paid?")
    request = faq_service.prepare(q)[0]
    count = faq_service.parts.text.count_tokens
    answer = faq_service.answer(q)
    passages = [h.text for _, h in request.evidence if h.text]
    assert passages and answer.usage.prompt_tokens == count([q.text]) + sum(
        count([p]) for p in passages)
    assert answer.usage.completion_tokens == count([answer.text])
    counted: list[list[str]] = []
    monkeypatch.setattr(faq_service.parts.text, "count_tokens",
                        lambda texts: counted.append(list(texts)) or count(texts))
    again = faq_service.answer(q)
    # the passages' counts are remembered: only the question and the answer are tokenized
    assert again.usage == answer.usage and counted == [[q.text], [again.text]]
