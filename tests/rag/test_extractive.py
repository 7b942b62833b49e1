import pytest

from rag.answer.generators import build_generator
from rag.answer.generators.base import NOT_FOUND, cited_numbers, collect
from rag.answer.generators.extractive import ExtractiveGenerator, terms
from rag.answer.sentences import best_sentence
from rag.errors import InvalidInput
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


def ocr_hit(n, text, source):
    return (n, Hit(id=source, modality="image", source=source, raw_score=0.5,
                   calibrated_score=6.0, score=6.0, channel="ocr", text=text))


HISTORY = ("Change history: What's up?\nDATE/TIME USER ACTION\n"
           "Aug. 2, 2024, 7:49 a.m. admin Added.\n"
           "Aug. 2, 2024, 7:56 a.m. admin Changed Date published.\n2 entries")
CHANGE_FORM = ("Change question\nWhat's up?\nQuestion text: What's up?\n"
               "Date published: Date: 2024-08-02 Today |\nTime: 10:07:18 Now|")


def test_a_possessive_is_its_noun():
    assert terms("What is Rey's last name?") == {"rey", "last", "name"}
    assert "what" not in terms("What's up?")


def test_a_count_that_repeats_the_question_s_words_still_answers_it(text_embedder):
    # "2 entries" holds no word the question lacks, but it holds the number asked for
    answer = ExtractiveGenerator(embedder=text_embedder).compose(
        "How many entries are in the change history of What's up?",
        [ocr_hit(1, HISTORY, "history.png")])
    assert answer.splitlines()[0] == "\u201c2 entries\u201d [1]"


def test_what_time_asks_for_a_time_of_day_not_a_date():
    answer = ExtractiveGenerator().compose(
        "What time is entered for the date published?", [ocr_hit(1, CHANGE_FORM, "form.png")])
    assert "10:07:18" in answer.splitlines()[0]


def test_a_number_named_by_the_question_s_word_is_the_answer():
    docs = text_hit("The template debug page shows the line where an error happened, with "
                    "the lines before and after it.", "templates.txt")
    shot = ocr_hit(2, "Error during template rendering\nIn template /path/to/template.html, "
                      "error at line 4\nInvalid block tag: 'syntax'", "error.png")
    answer = ExtractiveGenerator().compose(
        "In the template error page, at which line is the error?", [(1, docs), shot])
    assert "error at line 4" in answer.splitlines()[0]


def test_the_same_words_in_two_places_are_quoted_once_citing_both():
    from rag.answer.citations import cite

    evidence = [ocr_hit(1, CHANGE_FORM, "form.png"), ocr_hit(2, CHANGE_FORM, "form2.png"),
                ocr_hit(3, HISTORY, "history.png")]
    answer = ExtractiveGenerator().compose("What time is entered for the date published?",
                                           evidence)
    first = answer.splitlines()[0]
    assert first.endswith("\u201d [1][2]") and "10:07:18" in first
    assert cited_numbers(answer) >= {1, 2}
    cited = {c.n: c for c in cite(evidence, answer)}
    assert cited[1].snippet == cited[2].snippet == "Time: 10:07:18 Now|" and cited[2].cited


MANDALA = ("Symmetry Mandala\nCenter abscissa 320,00\nCenter ordinate 240,00\n"
           "Number of points 6\nDisable brush transform")


def test_an_interface_field_without_a_colon_is_a_label_and_its_value(text_embedder):
    # a dialog's spin buttons read as "Center abscissa 320,00": the page names the field,
    # the screenshot holds its value
    page = text_hit("Mandala. Center abscissa, Center ordinate to position the center of "
                    "coordinates. Number of points: the number of brush strokes around the "
                    "center.", "symmetry.html")
    for gen in (ExtractiveGenerator(), ExtractiveGenerator(embedder=text_embedder)):
        answer = gen.compose("What is the center abscissa of the Mandala symmetry?",
                             [(1, page), ocr_hit(2, MANDALA, "mandala.png")])
        assert answer.splitlines()[0] == "\u201cCenter abscissa 320,00\u201d [2]"
    patterns = ocr_hit(1, "Patterns\nClipboard (16 × 16)\n3D Green (45 × 45)\nAmethyst (64 × 64)",
                       "patterns.png")
    answer = ExtractiveGenerator().compose("What size is the Amethyst pattern?", [patterns])
    assert answer.splitlines()[0] == "\u201cAmethyst (64 × 64)\u201d [1]"


def test_a_passage_and_the_picture_it_shows_answer_together():
    # the page says which dialog monitors resources; its screenshot holds the figures
    import json

    from rag import items

    page = text_hit("The Dashboard helps to monitor GIMP resource usage (Cache, Swap, CPU, "
                    "Memory). Figure 15.84. The Dashboard Dialog window", "dashboard.html")
    page.metadata[items.SHOWS] = json.dumps([["images/dashboard.png",
                                              "Cache\nLimit: 2.9 GiB\nMemory\n"
                                              "Used: 1.6 GiB (10%)\nAvailable: 5.3 GiB (33%)"]])
    answer = ExtractiveGenerator().compose(
        "The dialog that monitors GIMP's resource usage: how much memory is available in its "
        "figure?", [(1, page)])
    assert answer.splitlines()[0] == (
        "image images/dashboard.png: \u201cAvailable: 5.3 GiB (33%)\u201d [1]")
    page.metadata[items.SHOWS] = "not json"  # a damaged value costs the figure, nothing else
    assert "Dashboard" in ExtractiveGenerator().compose("What does the Dashboard monitor?",
                                                        [(1, page)])
