"""The language a person wrote in, and the server's own words in it: the refusal, the notes
and the labels follow the question (Simplified Chinese or English)."""

from __future__ import annotations

import re

HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs (a regex class body)
_HAN = re.compile(f"[{HAN_CHARS}]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

MESSAGES: dict[str, dict[str, str]] = {
    "not_found": {
        "en": "I could not find anything in the knowledge base that answers this question, "
              "so I will not guess.",
        "zh": "知识库中没有找到能回答这个问题的内容，所以我不作猜测。"},
    "empty": {
        "en": "collection {collection!r} is empty: nothing has been ingested into it yet",
        "zh": "集合 {collection!r} 是空的：还没有导入任何内容"},
    "no_images": {
        "en": "image search is off: the CLIP model could not be loaded",
        "zh": "图片搜索已关闭：CLIP 模型无法加载"},
    "sources": {"en": "Sources", "zh": "来源"},
}


def language(text: str) -> str:
    """"zh" when the text is Chinese (more Han characters than Latin words: "dpkg 怎么列出
    文件" is Chinese, "What does 文件 mean?" is not), else "en"."""
    han = len(_HAN.findall(text))
    return "zh" if han >= 2 and han > len(_LATIN_WORD.findall(text)) else "en"


_LETTER = re.compile(r"[^\W\d_]")


def needs_multilingual(text: str) -> bool:
    """Whether the English text model cannot read ``text``: at least two of its letters, and
    one in twenty, are outside ASCII (Chinese, Japanese, Russian, Arabic; not an English page
    that names a café). Such text is embedded by the multilingual model too."""
    letters = _LETTER.findall(text)
    other = sum(1 for c in letters if not c.isascii())
    return other >= 2 and other * 20 >= len(letters)


def say(key: str, question: str = "", **values: object) -> str:
    """The message ``key`` in the language of ``question``."""
    return MESSAGES[key][language(question)].format(**values)
