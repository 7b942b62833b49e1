"""Metric functions against values computed by hand."""

import math

import pytest

from eval import metrics as m


def test_normalize():
    assert m.normalize("The 25th of every month! [1]") == "25th of every month"
    assert m.normalize("有6个控制台。") == "有 6 个 控 制 台"


def test_chinese_answers_are_found_inside_chinese_sentences():
    assert m.containment("“在默认的 Debian 系统中，有6个可切换的字符控制台” [1]", ["6个"]) == 1.0
    assert m.containment("有16个控制台", ["6个"]) == 0.0  # not inside another number
    assert m.containment("使用 dpkg --listfiles 列出文件", ["dpkg --listfiles"]) == 1.0


def test_retrieval_metrics_by_hand():
    # ranks: 1 irrelevant, 2 relevant (a), 3 relevant (a again: no credit), 4 relevant (b)
    hits = [("/kb/x.md", "1"), ("/kb/a.md", "2"), ("/kb/a.md", "3"), ("/kb/img/b.png", "4")]
    flags = m.relevance_flags(hits, ["a.md", "img/b.png", "c.md"])
    assert flags == [-1, 0, -1, 1]
    assert m.hit_at_k(flags, 1) == 0.0 and m.hit_at_k(flags, 2) == 1.0
    assert m.recall_at_k(flags, 3, 5) == pytest.approx(2 / 3)
    assert m.mrr(flags) == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m.ndcg_at_k(flags, 3, 5) == pytest.approx(dcg / idcg)
    assert m.ndcg_at_k([0], 1, 5) == 1.0 and m.mrr([-1, -1]) == 0.0


def test_relevance_matches_ids_paths_and_uploaded_names():
    assert m.is_relevant("/data/kb/images/chart.png", "x", "images/chart.png")
    assert m.is_relevant("chart.png", "x", "images/chart.png")  # uploaded over HTTP
    assert m.is_relevant("whatever", "doc-1-t0", "doc-1-t0")
    assert not m.is_relevant("/data/kb/other/chart.png", "x", "images/chart.png")
    assert not m.is_relevant("/data/mychart.png", "x", "chart.png")


def test_a_picture_a_page_shows_counts_as_the_picture_s_file():
    from eval.runner import score, shown

    page = "/kb/help/dialog.html"
    assert shown({"source": page, "ref": "images/a.png"}) == "/kb/help/images/a.png"
    assert shown({"source": page, "metadata": {"ref": "../shots/b.png"}}) == "/kb/shots/b.png"
    assert shown({"source": page, "location": "image images/a.png"}) == "/kb/help/images/a.png"
    assert shown({"source": page, "location": "page 3"}) == page
    assert shown({"source": page, "ref": "https://example.com/a.png"}) == page
    from eval.dataset import Case

    case = Case(id="s", question="q", relevant=["images/a.png"], answers=["x"])
    rec = {"hits": [{"source": page, "id": "i", "ref": "images/a.png"}], "found": True,
           "answer": "x", "citations": []}
    assert score(case, rec, 5)["hit@5"] == 1.0
    # a quote of a picture the cited passage shows is grounded in that passage's evidence
    import json

    shows = json.dumps([["images/a.png", "Limit: 2.9 GiB"]])
    rec = {"hits": [{"source": page, "id": "t", "text": "The Dashboard.", "shows": shows}],
           "found": True, "answer": "image images/a.png: \u201cLimit: 2.9 GiB\u201d [1]",
           "citations": [{"id": "t", "source": page, "cited": True}]}
    assert score(case, rec, 5)["groundedness"] == 1.0


def test_answer_metrics_by_hand():
    assert m.exact_match("The Paris.", ["paris"]) == 1.0
    # prediction "paid on the 25th" -> [paid, on, 25th]; answer "25th of every month" ->
    # [25th, of, every, month]: 1 common, P = 1/3, R = 1/4, F1 = 2/7
    assert m.token_f1("paid on the 25th", ["25th of every month"]) == pytest.approx(2 / 7)
    assert m.containment("Salaries are paid on the 25th of every month [1].",
                         ["25th of every month"]) == 1.0
    assert m.containment("the 125th", ["25th"]) == 0.0  # whole words only
    # LCS of [w, x, y, z] and [w, y, z, q] is [w, y, z]: P = R = 3/4
    assert m.rouge_l("w x y z", ["w y z q"]) == pytest.approx(0.75)
    assert m.bleu("the cat sat on the mat", ["the cat sat on the mat"]) == pytest.approx(100)
    assert m.bleu("completely different words here", ["the cat sat on the mat"]) < 10


def test_groundedness_citations_and_refusals():
    evidence = ["Salaries are paid on the 25th of every month."]
    assert m.groundedness("Salaries are paid on the 25th [1]. The CEO likes jazz music.",
                          evidence) == 0.5
    assert m.groundedness("", evidence) is None
    cited = [("/kb/faq.txt", "1"), ("/kb/other.md", "2")]
    assert m.citation_precision(cited, ["faq.txt"]) == 0.5
    assert m.citation_precision([], ["faq.txt"]) is None
    assert m.refusal_correct(found=False, unanswerable=True) == 1.0
    assert m.refusal_correct(found=True, unanswerable=True) == 0.0
    assert m.refusal_correct(found=False, unanswerable=False) == 0.0


def test_ocr_error_rates_and_clipscore_and_percentiles():
    assert m.cer("helo world", "hello world") == pytest.approx(1 / 11)
    assert m.wer("hello word", "hello world") == 0.5
    assert m.clip_score([1.0, 0.0], [0.6, 0.8]) == pytest.approx(150.0)
    assert m.clip_score([1.0, 0.0], [-1.0, 0.0]) == 0.0
    assert m.percentile([5, 1, 3, 2, 4], 50) == 3 and m.percentile([1, 2, 3, 4], 99) == 4


def test_curly_quotes_around_an_answer_do_not_hide_it():
    from eval.metrics import containment

    assert containment("\u201c2 stories were marked\u201d [4]", ["2 stories"]) == 1.0
    assert containment("\u201cDefault: `1209600`\u201d", ["1209600"]) == 1.0
