"""Sources where chat clients look for them, through the official openai client against the
real server: url_citation annotations whose links open without the key (signed), the
Markdown sources list per setting, snippets that are the quoted sentence, no server paths."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from ingest.pipeline import Ingestor

from ..conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
QUESTION = "How many days do I have to submit my travel expenses?"


@pytest.fixture
def live(settings, service, kb, tmp_path):
    Ingestor(service).ingest_paths([kb])
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"key": "the-key", "collections": ["default"]}]}))
    settings.api_keys_file = path
    with LiveServer(service) as server:
        yield server


def client(live) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key="the-key", max_retries=0)


def test_chat_answers_carry_url_citations_that_open_without_the_key(live, kb):
    r = client(live).chat.completions.create(model="mmrag", messages=[
        {"role": "user", "content": QUESTION}], extra_body={"sources_footer": False})
    message = r.choices[0].message
    assert message.annotations, message
    first = message.annotations[0]
    assert first.type == "url_citation"
    span = message.content[first.url_citation.start_index:first.url_citation.end_index]
    assert span == "[1]" and first.url_citation.title == "travel-expense-policy.md"
    assert first.url_citation.url.startswith(live.url + "/v1/items/")
    passage = httpx.get(first.url_citation.url, timeout=30)  # no key: the link is signed
    assert passage.status_code == 200 and "30 days" in passage.json()["text"]
    page = httpx.get(first.url_citation.url, headers={"accept": "text/html"}, timeout=30)
    assert "travel-expense-policy.md" in page.text and "30 days" in page.text
    tampered = first.url_citation.url.replace("sig=", "sig=0")
    assert httpx.get(tampered, timeout=30).status_code == 401
    assert httpx.get(first.url_citation.url.split("?")[0], timeout=30).status_code == 401
    cites = r.model_extra["citations"]
    assert "30 days" in cites[0]["snippet"] and cites[0]["snippet"].startswith("Submit")
    assert str(kb) not in json.dumps(r.model_dump())  # no server path anywhere


def test_the_sources_list_follows_the_setting_and_the_request(live, settings):
    c = client(live)

    def ask(**extra):
        return c.chat.completions.create(model="mmrag", messages=[
            {"role": "user", "content": QUESTION}], extra_body=extra).choices[0].message.content

    assert "**Sources**" in ask()  # auto, and the openai package shows no annotations
    assert "**Sources**" not in ask(sources_footer=False)
    text = ask(sources_footer=True)
    assert "1. [travel-expense-policy.md](" in text and "/v1/items/" in text
    settings.server.sources_footer = "never"
    assert "**Sources**" not in ask()
    r = httpx.post(live.url + "/v1/chat/completions", timeout=60, headers={
        "Authorization": "Bearer the-key", "User-Agent": "Python/3.11 aiohttp/3.9.5"},
        json={"model": "mmrag", "messages": [{"role": "user", "content": QUESTION}]})
    assert "**Sources**" not in r.json()["choices"][0]["message"]["content"]
    settings.server.sources_footer = "auto"  # Open WebUI's User-Agent: it shows annotations
    r = httpx.post(live.url + "/v1/chat/completions", timeout=60, headers={
        "Authorization": "Bearer the-key", "User-Agent": "Python/3.11 aiohttp/3.9.5"},
        json={"model": "mmrag", "messages": [{"role": "user", "content": QUESTION}]})
    assert "**Sources**" not in r.json()["choices"][0]["message"]["content"]


def test_a_streamed_answer_ends_with_its_sources(live):
    stream = client(live).chat.completions.create(model="mmrag", stream=True, messages=[
        {"role": "user", "content": QUESTION}])
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    notes = [a for ch in chunks if ch.choices
             for a in (ch.choices[0].delta.model_extra or {}).get("annotations") or []]
    assert "**Sources**" in text and notes
    assert notes[0]["type"] == "url_citation"
    assert text[notes[0]["url_citation"]["start_index"]:
                notes[0]["url_citation"]["end_index"]] == "[1]"
    assert httpx.get(notes[0]["url_citation"]["url"], timeout=30).status_code == 200
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_image_links_open_without_the_key(live, kb):
    import base64

    green = (kb / "img" / "green.jpg").read_bytes()
    r = client(live).chat.completions.create(model="mmrag", messages=[{"role": "user",
        "content": [{"type": "text", "text": "Where is this picture from?"},
                    {"type": "image_url", "image_url": {
                        "url": "data:image/jpeg;base64," + base64.b64encode(green).decode()}}]}])
    image = next(c for c in r.model_extra["citations"] if c["modality"] == "image")
    assert image["source"] == "green.jpg"
    got = httpx.get(image["url"], timeout=30)
    assert got.status_code == 200 and got.content == green
    assert f"![green.jpg]({image['url']})" in r.choices[0].message.content


def test_an_unknown_collection_is_a_404_and_an_empty_one_says_so(settings, service, tmp_path):
    with LiveServer(service) as live:  # nothing ingested at all
        c = openai.OpenAI(base_url=live.url + "/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.NotFoundError, match="no collection 'nope'"):
            c.chat.completions.create(model="mmrag", extra_body={"collection": "nope"},
                                      messages=[{"role": "user", "content": QUESTION}])
        for method, path, body in (("POST", "/v1/query", {"question": "x",
                                                          "collection": "nope"}),
                                   ("GET", "/v1/documents?collection=nope", None)):
            r = httpx.request(method, live.url + path, json=body, timeout=30)
            assert r.status_code == 404 and "'nope'" in r.json()["error"]["message"]
        r = c.chat.completions.create(model="mmrag", messages=[
            {"role": "user", "content": QUESTION}])
        assert any("'default' is empty" in n for n in r.model_extra["mmrag"]["notes"])


def test_responses_api_plain_and_streamed_with_url_citations(live):
    c = client(live)
    r = c.responses.create(model="mmrag", input=QUESTION)
    assert "30 days" in r.output_text and r.status == "completed"
    note = r.output[0].content[0].annotations[0]
    assert note.type == "url_citation" and note.title == "travel-expense-policy.md"
    assert r.output_text[note.start_index:note.end_index] == "[1]"
    assert httpx.get(note.url, timeout=30).status_code == 200
    assert r.usage.input_tokens > 10 and r.usage.output_tokens > 5
    events = list(c.responses.create(model="mmrag", stream=True, input=[
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]}]))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert "30 days" in text and events[-1].response.output_text == text
    assert "response.output_text.annotation.added" in kinds


def test_legacy_completions_answer_the_prompt_with_sources(live):
    c = client(live)
    r = c.completions.create(model="mmrag", prompt=QUESTION)
    assert "30 days" in r.choices[0].text and "**Sources**" in r.choices[0].text
    assert r.usage.completion_tokens > 5 and r.choices[0].finish_reason == "stop"
    pieces = list(c.completions.create(model="mmrag", prompt=QUESTION, stream=True))
    text = "".join(p.choices[0].text for p in pieces)
    assert "30 days" in text and "/v1/items/" in text


def _pdf(pages: list[str]) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        for text in pages:
            fig = plt.figure(figsize=(6, 4))
            fig.text(0.1, 0.5, text, fontsize=11)
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()


def test_a_pdf_passage_links_to_its_page_rendered(live):
    from PIL import Image

    data = _pdf(["Cover page of the handbook.",
                 "Badges are returned to reception on the last working day."])
    r = httpx.post(live.url + "/v1/ingest", headers={"Authorization": "Bearer the-key"},
                   files=[("files", ("handbook.pdf", data))], timeout=120)
    assert r.status_code == 200 and r.json()["files"][0]["status"] == "ingested", r.text
    answer = client(live).chat.completions.create(model="mmrag", messages=[
        {"role": "user", "content": "When are badges returned?"}],
        extra_body={"sources_footer": False})
    cite = next(c for c in answer.model_extra["citations"] if c["source"] == "handbook.pdf")
    assert cite["location"] == "page 2"
    passage = httpx.get(cite["url"], timeout=30).json()  # signed: no key needed
    assert "Badges are returned" in passage["text"] and passage["location"] == "page 2"
    assert "/page?" in passage["image_url"]
    page = httpx.get(passage["image_url"], timeout=60)
    assert page.status_code == 200 and page.headers["content-type"] == "image/png"
    import io

    assert Image.open(io.BytesIO(page.content)).size[0] > 300
    hits = httpx.post(live.url + "/v1/query", headers={"Authorization": "Bearer the-key"},
                      json={"question": "When are badges returned?"}, timeout=60).json()["hits"]
    assert hits and not any(k in h["metadata"] for h in hits  # no stored-copy keys
                            for k in ("file_blob", "blob", "source"))
