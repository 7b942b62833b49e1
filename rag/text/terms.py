"""Words as lexical matching sees them: content words of a question or a passage, lightly
stemmed, without the words every question has. Shared by the extractive answer, the
answerability check and the full-text channel (its query, and the text it indexes).

Chinese is written without spaces: a run of Han characters is cut into words (``words_of``)
before anything counts or indexes it, and identifiers beside it (``dpkg --listfiles``) stay
whole."""

from __future__ import annotations

import functools
import re
from typing import Any

from rag.text.language import HAN_CHARS

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
IDENT = re.compile(r"[A-Za-z0-9_]+")
STOP = frozenset(
    "a an the is are was were be been being of to in on at by for with from as and or not no "
    "what which who whom whose when where why how do does did doing done can could should would "
    "will shall may might must this that these those it its i you we they he she me my our your "
    "their there here about into than then so if but any all some much many more most other "
    "tell show give please find me us".split()
)


HAN = re.compile(f"[{HAN_CHARS}]+")
# function words and the words every Chinese question has ("what", "which", "how many")
ZH_STOP = frozenset(
    "的 了 是 在 有 和 与 或 及 中 里 上 下 个 吗 "
    "呢 吧 啊 把 被 对 从 到 为 以 也 都 就 还 又 "
    "而 并 等 地 得 着 过 这 那 其 之 所 该 此 它 "
    "他 她 我 你 谁 几 请 要 会 能 可 哪 什么 哪个 "
    "哪些 哪里 哪儿 怎么 怎样 如何 为什么 多少 几个 "
    "什么样 是否 可以 能否 我们 你们 他们 这个 那个 这些 "
    "那些 一个 时候 什么时候 用于 用来 里面 之中 以及 "
    "或者 还是 如果 因为 所以 但是 然后".split())


@functools.cache
def _jieba() -> Any:
    """jieba with its dictionary loaded: once, on the first Chinese text (~0.7 s, +67 MiB)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()  # thread-safe: jieba holds its own lock while it loads
    return jieba


@functools.lru_cache(maxsize=65536)
def words_of(run: str) -> tuple[str, ...]:
    """The words of one run of Han characters, by jieba's dictionary in search mode (a long
    word and the words inside it: 控制台 gives 控制 and 控制台). On the Debian Reference in
    Chinese this answered more than character bigrams did (docs/evaluation.md, "Chinese")."""
    return tuple(w for w in _jieba().cut_for_search(run, HMM=True) if w.strip())


def han_words(text: str) -> list[str]:
    """The Chinese content words of a text, in order (a word may repeat)."""
    return [w for run in HAN.findall(text) for w in words_of(run) if w not in ZH_STOP]


def index_text(text: str) -> str:
    """The text as the full-text index reads it: each run of Han characters replaced by its
    words with spaces between (an index tokenizer sees a run as one token otherwise)."""
    return HAN.sub(lambda m: " " + " ".join(words_of(m.group())) + " ", text)


_RUN = re.compile(r"\w+")


def said(text: str) -> str:
    """What a text says: its words and numbers in order, lower case, marks and spacing
    aside (to tell repeats, or to find one text inside another)."""
    return " ".join(_RUN.findall(text.lower()))


def count_words(text: str) -> int:
    """How many words a text has: whitespace words, and for Chinese about one word per two
    Han characters."""
    han = sum(len(r) for r in HAN.findall(text))
    return len(HAN.sub(" ", text).split()) + (han + 1) // 2


def stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _word(w: str) -> str:
    """"rey's" is Rey: a possessive is its noun ("what's" is "what", a stop word)."""
    return w[:-2] if w.endswith("'s") else w


@functools.lru_cache(maxsize=65536)
def terms(text: str) -> frozenset[str]:
    """Content words, lightly stemmed (plurals, possessives), for lexical matching.
    Remembered: the same passages' sentences are read for many questions (and twice in one
    answer: to choose its quote, and for its citations)."""
    english = [stem(w) for w in map(_word, WORD.findall(text.lower()))
               if w not in STOP and len(w) > 1]
    return frozenset(english + han_words(text))


def query_words(text: str) -> list[str]:
    """The words of a question a full-text index is asked for, in order, once each;
    identifiers (SESSION_COOKIE_AGE) stay whole; Chinese is cut into its words."""
    out: dict[str, None] = {}
    for w in IDENT.findall(text):
        w = w.lower().strip("_")
        if len(w) > 1 and w not in STOP:
            out[w] = None
    for w in han_words(text):
        out[w] = None
    return list(out)
