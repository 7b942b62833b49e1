"""ExtractiveGenerator: answers without a model by quoting the evidence sentences that best
match the question, cited as [n]; images are cited by link. Fast, deterministic, and never
says anything that is not in the knowledge base."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import items
from ..protocols import GenerationChunk, GenerationRequest
from ..schema import Hit, Usage
from .base import NOT_FOUND

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|\n{2,}|\n(?=\s*[-*#\d])")
STOP = frozenset(
    "a an the is are was were be been being of to in on at by for with from as and or not no "
    "what which who whom whose when where why how do does did doing done can could should would "
    "will shall may might must this that these those it its i you we they he she me my our your "
    "their there here about into than then so if but any all some much many more most other "
    "tell show give please find me us".split()
)


def _stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def terms(text: str) -> set[str]:
    """Content words, lightly stemmed (plurals), for lexical matching."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP and len(w) > 1}


def sentences(text: str) -> list[str]:
    parts = [" ".join(s.split()) for s in _SENTENCE.split(text)]
    return [s for s in parts if len(s) > 2]


def _is_label(s: str) -> bool:
    """Headings, FAQ questions and short lines label what follows; they are not answers."""
    return s.startswith("#") or s.endswith("?") or s.endswith(":") or len(s.split()) < 4


def best_sentence(question: set[str], text: str, lines: bool = False,
                  section: str = "") -> tuple[float, str]:
    """The sentence that best answers: the share of question terms found in it, plus half
    credit for terms in the heading or FAQ question it stands under. With ``lines`` (text read
    from an image), every line is a unit of its own. ``section`` is the heading path a chunk
    starts with: context, not an answer."""
    if section and text.startswith(section):
        text = text[len(section):]
    best, context = (0.0, ""), terms(section)
    units = [u.strip() for u in text.splitlines() if u.strip()] if lines else sentences(text)
    for s in units:
        words = terms(s)
        if _is_label(s) and not lines:  # on a sign or slide, a short line is the content
            context = words
            continue
        if not words:
            continue
        score = (len(question & words) + 0.5 * len((question & context) - words)) / max(
            len(question), 1)
        label, colon, value = s.partition(":")
        if colon and value.strip() and terms(label) & question:
            # "Assembly point: parking lot C": a value under a label the question asks about
            score += 0.5 * len(terms(label) & question) / max(len(question), 1)
        if score > best[0]:
            best = (score, s)
    return best


def opening(text: str) -> str:
    """The first real sentence, for evidence that shares no words with the question."""
    body = [s for s in sentences(text) if not _is_label(s)]
    return body[0] if body else text.strip()


class ExtractiveGenerator:
    name = "extractive"
    supports_images = False
    supports_streaming = True

    def __init__(self, max_quotes: int = 2, max_quote_chars: int = 400):
        self.max_quotes = max_quotes
        self.max_quote_chars = max_quote_chars

    def generate(self, request: GenerationRequest) -> Iterator[GenerationChunk]:
        text = self.compose(request.question, request.evidence)
        # stream by sentence-sized pieces: the same interface as a model that streams tokens
        pieces = re.split(r"(?<=\n)", text)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            yield GenerationChunk(
                piece,
                usage=Usage(0, 0) if last else None,
                finish_reason="stop" if last else None,
            )

    def compose(self, question: str, evidence: list[tuple[int, Hit]]) -> str:
        if not evidence:
            return NOT_FOUND
        q = terms(question)
        quotes: list[tuple[float, int, str]] = []
        for n, hit in evidence:
            if not hit.text:  # an image without readable text is linked, not quoted
                continue
            section = str(hit.metadata.get(items.SECTION, ""))
            overlap, sentence = best_sentence(q, hit.text, lines=hit.channel == "ocr",
                                              section=section)
            body = hit.text[len(section):] if section and hit.text.startswith(section) \
                else hit.text
            quotes.append((overlap, n, sentence or opening(body)))
        lines: list[str] = []
        if quotes:
            top = quotes[0]
            chosen = [top] + [x for x in quotes[1:] if x[0] > 0 and x[0] >= top[0] * 0.5]
            for _, n, sentence in chosen[: self.max_quotes]:
                if len(sentence) > self.max_quote_chars:
                    sentence = sentence[: self.max_quote_chars].rsplit(" ", 1)[0] + " …"
                lines.append(f"\u201c{sentence}\u201d [{n}]")
        images = [(n, h) for n, h in evidence if h.modality == "image" and not h.text]
        if images:
            refs = ", ".join(f"[{n}] {items.display_source(h.source)}"
                             + (f" ({where})" if (where := items.location(h.metadata)) else "")
                             for n, h in images[:3])
            lines.append(f"Relevant image{'s' if len(images) > 1 else ''}: {refs}")
        return "\n".join(lines)
