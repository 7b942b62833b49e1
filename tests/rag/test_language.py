"""The server's own words follow the question's language: the refusal, the notes, the
"Sources" label."""

from __future__ import annotations

from rag.answer.generators.base import NOT_FOUND, collect
from rag.schema import Query
from rag.text.language import language
from server.openai.sources import footer
from server.schemas import CitationOut


def test_the_language_of_a_question():
    assert language("差旅费的报销期限是多少天？") == "zh"
    assert language("dpkg 怎么列出一个软件包的文件？") == "zh"  # English names in Chinese
    assert language("How do I list the files of a package?") == "en"
    assert language("What does 文件 mean in this sentence?") == "en"  # a Chinese word in English
    assert language("") == "en"


def test_a_chinese_question_is_refused_in_chinese_with_chinese_notes(service):
    answer = service.answer(Query(text="公司的差旅报销政策是什么？"))
    assert not answer.found
    assert answer.text == "知识库中没有找到能回答这个问题的内容，所以我不作猜测。"
    assert answer.notes == ["集合 'default' 是空的：还没有导入任何内容"]
    streamed = service.stream(Query(text="公司的差旅报销政策是什么？"))
    assert collect(streamed.chunks)[0] == answer.text
    assert streamed.notes == answer.notes
    english = service.answer(Query(text="What is the travel policy?"))
    assert english.text == NOT_FOUND
    assert english.notes == ["collection 'default' is empty: nothing has been ingested into it yet"]


def test_the_sources_list_is_labelled_in_the_question_language():
    cite = CitationOut(n=1, id="x", modality="text", source="a.md", score=1.0, cited=True,
                       url="http://h/v1/items/x")
    assert "**来源**" in footer([cite], "报销期限是多少天？")
    assert "**Sources**" in footer([cite], "How many days?")
