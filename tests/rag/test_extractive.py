import pytest

from rag.errors import InvalidInput
from rag.generators import build_generator
from rag.generators.base import NOT_FOUND, cited_numbers, collect
from rag.generators.extractive import ExtractiveGenerator, best_sentence, terms
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.settings import Settings

FAQ = """Onboarding FAQ

When is salary paid?
Salaries are paid on the 25th of every month. If the 25th falls on a weekend, salary is paid
on the last working day before it.

How many vacation days do I have?
Full-time employees have 28 vacation days per calendar year."""


def text_hit(text, source="faq.txt"):
    return Hit(id=source, modality="text", source=source, raw_score=0.5, calibrated_score=6.0,
               score=6.0, channel="text", text=text)


def test_terms_drop_stop_words_and_plurals():
    assert terms("How many vacation days do I have?") == {"vacation", "day", "have"}
    assert terms("salaries") == terms("salary")


def test_faq_answers_come_from_under_the_matching_question():
    _, s = best_sentence(terms("When is salary paid?"), FAQ)
    assert s.startswith("Salaries are paid on the 25th")
    _, s = best_sentence(terms("how many vacation days"), FAQ)
    assert s.startswith("Full-time employees have 28 vacation days")


def test_answer_cites_evidence_and_links_images():
    image = Hit(id="img1", modality="image", source="chart.png", raw_score=0.3,
                calibrated_score=5.0, score=5.0, channel="image")
    req = GenerationRequest("When is salary paid?", [(1, text_hit(FAQ)), (2, image)])
    text, usage, finish = collect(ExtractiveGenerator().generate(req))
    assert "25th of every month" in text and "[1]" in text
    assert "[2] chart.png" in text
    assert cited_numbers(text) == {1, 2}
    assert finish == "stop" and usage.total_tokens == 0


def test_no_evidence_means_no_guess():
    req = GenerationRequest("Who won the 1998 world cup?", [])
    assert collect(ExtractiveGenerator().generate(req))[0] == NOT_FOUND


def test_registry_builds_by_name_and_names_the_choices():
    assert build_generator("extractive", Settings(_env_file=None)).name == "extractive"
    with pytest.raises(InvalidInput, match="available: extractive, llava, local, openai"):
        build_generator("nope", Settings(_env_file=None))


def test_a_chunk_heading_path_is_context_not_an_answer():
    text = "Travel policy > Daily allowance\n\nThe daily allowance for meals is 45 euros."
    hit = Hit(id="t", modality="text", source="p.md", raw_score=0.5, calibrated_score=6,
              score=6, channel="text", text=text, metadata={"section": "Travel policy > "
                                                                       "Daily allowance"})
    answer = ExtractiveGenerator().compose("What is the daily allowance?", [(1, hit)])
    assert answer == "\u201cThe daily allowance for meals is 45 euros.\u201d [1]"


SETTINGS_PAGE = """Settings > Sessions > SESSION_COOKIE_AGE

Default: ``1209600`` (2 weeks, in seconds)

The age of session cookies, in seconds."""

SESSIONS_PAGE = """Sessions > Expiry

For sessions with no custom expiration, this will equal ``SESSION_COOKIE_AGE``."""

CACHE_PAGE = """Cache arguments

Cache backends that implement their own culling strategy will honor these options:

* ``MAX_ENTRIES``: The maximum number of entries allowed in the cache before old values
  are deleted. This argument defaults to ``300``.
* ``CULL_FREQUENCY``: The fraction of entries that are culled. Defaults to ``3``."""


def rst_hit(text, source, n_section=True):
    section = text.split("\n", 1)[0] if n_section else ""
    return Hit(id=source, modality="text", source=source, raw_score=0.6, calibrated_score=9,
               score=9, channel="text", text=text, metadata={"section": section})


def test_the_unit_holding_the_value_asked_for_is_quoted_under_its_label():
    evidence = [(1, rst_hit(SESSIONS_PAGE, "sessions.txt")),
                (2, rst_hit(SETTINGS_PAGE, "settings.txt"))]
    answer = ExtractiveGenerator().compose("What is the default value of SESSION_COOKIE_AGE?",
                                           evidence)
    first = answer.splitlines()[0]
    assert first == "SESSION_COOKIE_AGE: \u201cDefault: `1209600` (2 weeks, in seconds)\u201d [2]"


def test_a_fact_in_a_list_item_is_chosen_whole(text_embedder):
    gen = ExtractiveGenerator(embedder=text_embedder)
    answer = gen.compose("How many entries does the cache hold before culling?",
                         [(1, rst_hit(CACHE_PAGE, "cache.txt"))])
    assert "defaults to `300`" in answer.splitlines()[0]
    assert "`MAX_ENTRIES`: The maximum number of entries" in answer
