"""Citations: the evidence an answer was given, numbered as the answer cites it, with the
sentence that backs it (the quoted one, else the one that best matches the question) and its
place in the source, never a path on the server."""

from __future__ import annotations

import re

from rag import items
from rag.answer.generators.base import cited_numbers
from rag.answer.sentences import best_sentence, opening
from rag.schema import Citation, Hit
from rag.text.terms import terms

SNIPPET_CHARS = 300
# the extractive answer's quotes: “words” [2], or [2][4] where two places say them
_QUOTE = re.compile(r"\u201c(.+?)\u201d ((?:\[\d+\])+)")


def snippet_of(hit: Hit, question: str) -> str:
    """The sentence of a hit that best matches the question (its first one when none
    shares a word with it)."""
    text = hit.text or ""
    section = str(hit.metadata.get(items.SECTION, ""))
    body = items.body_of(text, section)
    score, sentence = best_sentence(terms(question), text, lines=hit.channel == "ocr",
                                    section=section)
    return sentence if score > 0 and sentence else opening(body)


def cite(evidence: list[tuple[int, Hit]], text: str, question: str = "") -> list[Citation]:
    """The evidence as cited: ``snippet`` is the sentence the answer quotes from it, else
    the one that best matches the question, never a server path in ``source``."""
    cited = cited_numbers(text)
    quoted: dict[int, str] = {}
    for q, ns in _QUOTE.findall(text):
        for n in re.findall(r"\d+", ns):
            quoted.setdefault(int(n), q)  # a passage quoted twice shows its first quote
    out = []
    for n, hit in evidence:
        snippet = quoted.get(n) or (snippet_of(hit, question) if hit.text else None)
        if snippet and len(snippet) > SNIPPET_CHARS:
            snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        out.append(Citation(n=n, id=hit.id, modality=hit.modality,
                            source=items.display_source(hit.source), score=hit.score,
                            snippet=snippet, cited=n in cited,
                            location=items.location(hit.metadata), channel=hit.channel,
                            raw_score=hit.raw_score, calibrated_score=hit.calibrated_score))
    return out
