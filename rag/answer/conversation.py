"""Follow-up questions in a chat ("and for contractors?", "what does it cost?") lean on the
turns before them. Retrieval needs a standalone query; without asking a model, the earlier
user turns' content words are added when the new question may be a follow-up. Whether it is
one is decided by the evidence (``RagService``: the question is searched alone and with these
words, and the words stay only when they find better evidence), since a pronoun ("where do
visitors park their cars?") is no sign of one."""

from __future__ import annotations

import re

from rag.text.terms import terms

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|what about|how about|then|so|or)\b"
    r"|\b(it|its|they|them|their|this|that|these|those|there|he|she|him|her|one|ones|same)\b",
    re.I,
)
MAX_CONTEXT_TERMS = 12
_WORD = re.compile(r"[A-Za-z0-9][\w'-]*")


def standalone_query(history: list[str], question: str) -> str:
    """``history``: earlier user turns, oldest first. Returns the query to retrieve with.
    Linear in the history's length: each word is looked at once, nearest turn first."""
    if not history or not question.strip():  # a picture alone is searched by itself
        return question
    short = len(terms(question)) <= 1
    if not (short or _FOLLOW_UP.search(question)):
        return question
    have = set(terms(question))
    seen: set[str] = set()
    extra: list[str] = []
    for turn in reversed(history):  # the nearest turn matters most
        for match in _WORD.finditer(turn):  # one pass, stopping as soon as enough are found
            word = match.group()
            if word in seen:
                continue
            seen.add(word)
            t = next(iter(terms(word)), None)
            if t and t not in have:
                extra.append(word)
                have.add(t)
                if len(extra) >= MAX_CONTEXT_TERMS:
                    return f"{question} ({' '.join(extra)})"
    return f"{question} ({' '.join(extra)})" if extra else question
