"""Refusals against what a match looks like in this collection (rag/retrieval/answerability.py)."""

import pytest

from rag.retrieval.answerability import IN_CORPUS_THRESHOLD, decide
from rag.schema import Hit
from rag.store.db import Database
from rag.store.lexical import SqlLexical

PASSAGES = {
    "age": "SESSION_COOKIE_AGE Default: 1209600 (2 weeks, in seconds). The age of session "
           "cookies.",
    "name": "SESSION_COOKIE_NAME Default: sessionid. The name of the session cookie.",
    "cache": "The default cache timeout is 300 seconds.",
    **{f"filler{i}": f"Templates render context variable number {i} for the admin site."
       for i in range(20)},
}
# the in-corpus background: another document's best match for the collection's own
# sentences has cosine 0.62 on average, spread 0.14 (values of a real documentation set)
META = {"mmrag:bg:in_corpus:mean": 0.62, "mmrag:bg:in_corpus:std": 0.14,
        "mmrag:bg:in_corpus:n": 280}


@pytest.fixture
def lexical(tmp_path):
    index = SqlLexical(Database(f"sqlite:///{tmp_path / 'm.sqlite3'}"))
    index.upsert("docs", list(PASSAGES), list(PASSAGES.values()))
    return index


def hit(key, cosine, z=9.0):
    return Hit(id=key, modality="text", source=f"{key}.txt", raw_score=cosine,
               calibrated_score=z, score=z, channel="text", text=PASSAGES[key])


def test_an_on_topic_question_about_a_name_the_collection_lacks_is_refused(lexical):
    # the old rule answers it: the best hit is 9 standard deviations above generic questions
    hits = [hit("age", 0.60), hit("name", 0.58)]
    q = "What is the default value of the SESSION_MAX_DEVICES setting?"
    old = decide(q, hits, "background", 3.5, META, lexical, "docs")
    new = decide(q, hits, "in-corpus", 3.5, META, lexical, "docs")
    assert old.answerable and not new.answerable
    assert new.rule == "in-corpus" and new.score < IN_CORPUS_THRESHOLD
    assert new.detail["words"] < 0.5
    report = new.report()
    assert report["answerable"] is False and report["threshold"] == IN_CORPUS_THRESHOLD


def test_an_answered_question_stays_answered(lexical):
    hits = [hit("age", 0.72), hit("name", 0.58)]
    v = decide("What is the default of SESSION_COOKIE_AGE?", hits, "in-corpus", 3.5, META,
               lexical, "docs")
    assert v.answerable and v.detail["words"] > 0.9 and v.score >= IN_CORPUS_THRESHOLD


def test_the_old_rule_still_decides_without_an_in_corpus_fit(lexical):
    hits = [hit("age", 0.60, z=2.0)]
    v = decide("What is SESSION_MAX_DEVICES?", hits, "in-corpus", 3.5, {}, lexical, "docs")
    assert v.rule == "background" and not v.answerable and v.score == 2.0
    v = decide("What is SESSION_MAX_DEVICES?", [hit("age", 0.6)], "in-corpus", 3.5, {},
               lexical, "docs")
    assert v.rule == "background" and v.answerable


def test_the_in_corpus_background_is_fitted_on_other_documents_matches():
    from rag import items
    from rag.retrieval.calibration import fit_in_corpus
    from rag.testing.fake_embedders import HashTextEmbedder
    from rag.testing.fakes import InMemoryStore

    store, text = InMemoryStore(), HashTextEmbedder()
    docs = [f"Document {d} sentence {i} talks about topic {d} and detail {i} at length."
            for d in range(6) for i in range(12)]
    ids = [f"d{n // 12}-t{n % 12}" for n in range(len(docs))]
    store.upsert("c", "text", ids, text.embed(docs),
                 [{items.DOC_ID: i.split("-")[0], items.SOURCE: i} for i in ids], docs,
                 model=text.model_id)
    bg = fit_in_corpus(store, "c", text)
    assert bg is not None and bg.n >= 20
    # each sentence's own passage (cosine 1.0) is never its match: another document's is
    assert bg.mean < 0.99
    assert fit_in_corpus(InMemoryStore(), "c", text) is None  # too small to fit


def test_the_in_corpus_fit_is_redone_only_when_the_collection_changed_enough(monkeypatch):
    from rag import items
    from rag.retrieval import calibration
    from rag.testing.fake_embedders import HashTextEmbedder
    from rag.testing.fakes import InMemoryStore

    store, text = InMemoryStore(), HashTextEmbedder()

    def add(start, n):
        docs = [f"Passage {i} of document {i % 7} says something about item {i}."
                for i in range(start, start + n)]
        ids = [f"d{i % 7}-t{i}" for i in range(start, start + n)]
        store.upsert("c", "text", ids, text.embed(docs),
                     [{items.DOC_ID: i.split("-")[0]} for i in ids], docs, model=text.model_id)

    fits = []
    real = calibration.fit_in_corpus
    monkeypatch.setattr(calibration, "fit_in_corpus",
                        lambda *a: fits.append(1) or real(*a))
    add(0, 100)
    calibration.refit(store, "c", text, None)
    add(100, 5)  # 5% more: the fit stands
    calibration.refit(store, "c", text, None)
    assert len(fits) == 1
    add(105, 20)  # 25% more than at the fit: fitted again
    calibration.refit(store, "c", text, None)
    assert len(fits) == 2
    assert store.get_meta("c", "text")["mmrag:bg:in_corpus:items"] == 125


def test_words_alone_do_not_lift_a_hit_over_the_generic_background(lexical):
    boosted = hit("age", 0.30, z=4.5)
    boosted.lexical = 2.0  # 2.5 from the vectors, 2.0 from full-text search
    v = decide("What is SESSION_COOKIE_AGE?", [boosted], "background", 3.5, {}, lexical, "docs")
    assert not v.answerable and v.score == 2.5


ZH = {"motd": "系统登录后显示的欢迎信息保存在 /etc/motd 文件里。",
      "consoles": "在默认的 Debian 系统中有 6 个可切换的字符控制台。"}


def test_chinese_words_count_and_a_question_in_another_language_is_judged_by_meaning(lexical):
    lexical.upsert("docs", list(ZH), list(ZH.values()))
    def motd_at(cosine):
        return Hit(id="motd", modality="text", source="motd.txt", raw_score=cosine,
                   calibrated_score=9.0, score=9.0, channel="text", text=ZH["motd"])

    motd = motd_at(0.75)
    # a Chinese question: its words are Chinese words, found in the passage
    zh = decide("登录后的欢迎信息保存在哪个文件里？", [motd], "in-corpus", 3.5, META,
                lexical, "docs")
    assert zh.answerable and zh.detail["words"] > 0.9
    # the same question in English shares no word with the Chinese passage: the words are
    # neutral and the meaning decides, instead of counting as missing
    en = decide("Which file holds the welcome message shown after login?", [motd],
                "in-corpus", 3.5, META, lexical, "docs")
    assert en.answerable and en.detail["words"] == 0.5
    # with a multilingual text model, the generic background decides across languages: the
    # in-corpus one was fitted on the collection's own sentences, in its language
    across = decide("Which file holds the welcome message shown after login?",
                    [motd_at(0.35)], "in-corpus", 3.5, META, lexical, "docs",
                    across_languages=True)
    assert across.answerable and across.rule == "background (across languages)"
    assert not decide("Which file holds the welcome message shown after login?",
                      [motd_at(0.35)], "in-corpus", 3.5, META, lexical, "docs").answerable
    # a Chinese question about what the passage does not hold is still refused
    miss = decide("登录后的欢迎信息用什么字体颜色显示？", [motd_at(0.5)], "in-corpus", 3.5,
                  META, lexical, "docs")
    assert miss.detail["words"] < zh.detail["words"] and not miss.answerable
