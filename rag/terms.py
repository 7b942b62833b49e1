"""Words as lexical matching sees them: content words of a question or a passage, lightly
stemmed, without the words every question has. Shared by the extractive answer, the
answerability check and the full-text channel's query."""

from __future__ import annotations

import functools
import re

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
IDENT = re.compile(r"[A-Za-z0-9_]+")
STOP = frozenset(
    "a an the is are was were be been being of to in on at by for with from as and or not no "
    "what which who whom whose when where why how do does did doing done can could should would "
    "will shall may might must this that these those it its i you we they he she me my our your "
    "their there here about into than then so if but any all some much many more most other "
    "tell show give please find me us".split()
)


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
    return frozenset(stem(w) for w in map(_word, WORD.findall(text.lower()))
                     if w not in STOP and len(w) > 1)


def query_words(text: str) -> list[str]:
    """The words of a question a full-text index is asked for, in order, once each;
    identifiers (SESSION_COOKIE_AGE) stay whole."""
    out: dict[str, None] = {}
    for w in IDENT.findall(text):
        w = w.lower().strip("_")
        if len(w) > 1 and w not in STOP:
            out[w] = None
    return list(out)
