"""Chats that stay on topic: a new question that merely has a pronoun is not the last one
again, and a picture with no words never inherits earlier words. Through the chat API with the
official client, on the sample knowledge base."""

from __future__ import annotations

import base64

import openai
import pytest

from ingest.pipeline import Ingestor

from ..conftest import KB

pytestmark = [pytest.mark.slow, pytest.mark.integration]
MEALS = [{"role": "user", "content": "What is the daily allowance for meals when travelling?"},
         {"role": "assistant", "content": "45 euros on a full travel day [1]."}]


@pytest.fixture
def client(live, service, kb):
    Ingestor(service).ingest_paths([kb])
    return openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0)


def _ask(client, *turns):
    r = client.chat.completions.create(model="mmrag", messages=[*MEALS, *turns])
    return r.choices[0].message.content, r.model_extra["citations"]


def test_a_new_topic_with_a_pronoun_is_not_the_last_question_again(client):
    text, cited = _ask(client, {"role": "user",
                                "content": "Where do visitors park their cars?"})
    assert "lot C" in text, text
    assert cited[0]["source"].endswith("office-guide.md"), cited
    assert "45 euros" not in text


def test_a_follow_up_still_leans_on_the_conversation(client):
    text, cited = _ask(client, {"role": "user", "content": "And on the day of departure?"})
    assert "25 euros" in text and cited[0]["source"].endswith("travel-expense-policy.md")


def test_a_picture_with_no_words_does_not_inherit_the_last_question(client, kb):
    picture = base64.b64encode((kb / "img" / "red.png").read_bytes()).decode()
    r = client.chat.completions.create(model="mmrag", messages=[*MEALS, {"role": "user",
        "content": [{"type": "image_url",
                     "image_url": {"url": f"data:image/png;base64,{picture}"}}]}])
    cited = r.model_extra["citations"]
    assert cited and cited[0]["modality"] == "image", cited  # the picture, found by itself
    assert all(not c["source"].endswith("travel-expense-policy.md") for c in cited), cited
    assert "45 euros" not in r.choices[0].message.content


def test_a_question_with_a_knowledge_base_picture_is_answered_from_its_text(live, service, kb):
    """The sign was found first (an exact match), but the answer quoted the onboarding FAQ's
    "Sign in with the temporary password ..."; the sign's own "Password: ..." line is it."""
    sign = KB / "images" / "guest-wifi-sign.png"
    Ingestor(service).ingest_paths([sign, kb / "onboarding-faq.txt"])
    client = openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0)
    picture = base64.b64encode(sign.read_bytes()).decode()
    r = client.chat.completions.create(model="mmrag", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is the password on this sign?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{picture}"}}]}])
    text, cited = r.choices[0].message.content, r.model_extra["citations"]
    assert "BlueHarbor2026" in text, text
    assert cited[0]["source"] == "guest-wifi-sign.png" and cited[0]["channel"] == "exact"
