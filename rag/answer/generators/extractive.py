"""ExtractiveGenerator: answers without a model by quoting the evidence sentences that best
match the question, cited as [n]; images are cited by link. Fast, deterministic, and never
says anything that is not in the knowledge base."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from rag import items
from rag.answer.sentences import ASKS, label_split, last_heading, overlap, shown
from rag.protocols import GenerationChunk, GenerationRequest, TextEmbedder, WordVectors
from rag.schema import Hit, Usage
from rag.text.language import needs_multilingual, say
from rag.text.terms import STOP, count_words, said, stem, terms
from rag.text.units import FIGURE, READ, Unit, units

__all__ = ["STOP", "ExtractiveGenerator", "pick", "terms"]

_NUMBER = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
_IDENT = re.compile(r"`[^`]+`|\b[A-Z][a-z]+[A-Z]\w*|\b\w+_\w+\b|\b\w+\.\w+\.\w+")
_WANTS_NUMBER = re.compile(
    r"\b(how (many|much|long|often|old|big|large|far|quickly)|what (time|date|year|port|size|"
    r"age|length|width|version|number|limit)|at (what|which)|when\b|minimum|maximum|max_|timeout|"
    r"default (max|value|size|age|timeout|length|port|number)|in seconds|versions?\b)")
_WANTS_NAME = re.compile(
    r"\b(which|what)\b.*\b(setting|key|variable|package|class|command|middleware|function|"
    r"method|field|tag|filter|decorator|exception|backend|attribute|option|signal|logger|view|"
    r"hasher|module|parameter|argument|header|cookie|engine|loader|storage|validator|shortcut|"
    r"name|handler|algorithm|directory|app)\b")
_WANTS_VALUE = re.compile(r"\bdefaults?\b|\bset to\b|\bvalue of\b")
_ASKS_WHAT = re.compile(r"\s*(what|which)\b", re.I)
_WANTS_CLOCK = re.compile(r"\bwhat time\b")
_WANTS_TIME = re.compile(r"\bwhen (was|were|did|is)\b")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|"
                   r"Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}\b")
_COUNT = re.compile(r"\b\d[\d,.]*\s+([A-Za-z]+)")
_NUMBERED = re.compile(r"\b([A-Za-z]+)\s+\d")
_LITERAL = re.compile(r"`[^`]+`|\d|'[^']+'|\"[^\"]+\"")
SEMANTIC = 0.6  # weight of the embedder's cosine against the lexical overlap's 0.4
KIND_BONUS = 0.15  # a unit holding the kind of value asked for (a number, a name)
LABEL_VALUE = 0.25  # "Default: 1209600" when the question asks for the default: a short
# value under a label the question names
RANK_PRIOR = 0.1  # evidence retrieved first is preferred a little
NOTHING_NEW = 0.5  # a unit whose words are all the question's says nothing it did not
# units weighed by meaning per answer, the lexically best ones (with word vectors, 4 to all
# of them chose the same answers on django-docs; through the model, 8 cost ~43 ms on 2 cores)
MAX_CANDIDATES = 8


@dataclass
class Scored:
    score: float
    n: int  # the evidence number it came from
    unit: Unit
    bonus: float = 0.0  # the part of score that is not word overlap: kept when re-scored


def wanted(question: str) -> str | None:
    """The kind of value the question asks for: 'clock' (a time of day), 'time' (a date or
    a time), 'number', 'name', 'value' or None."""
    q = question.lower()
    if _WANTS_CLOCK.search(q):
        return "clock"
    if _WANTS_TIME.search(q):
        return "time"
    if _WANTS_NUMBER.search(q):
        return "number"
    if _WANTS_NAME.search(q):
        return "name"
    if _WANTS_VALUE.search(q):
        return "value"  # a default, a setting's value: a literal of any kind
    return None


def _holds(unit: Unit, kind: str | None) -> bool:
    if kind == "number":
        return bool(_NUMBER.search(unit.text))
    if kind == "time":
        return bool(_TIME.search(unit.text))
    if kind == "clock":
        return bool(_CLOCK.search(unit.text))
    if kind == "name":
        return bool(_IDENT.search(unit.text))
    if kind == "value":
        return bool(_LITERAL.search(unit.text))
    return False


def _label_value(question: AbstractSet[str], unit: Unit, kind: str | None) -> bool:
    """'Default: `1209600` (2 weeks)', 'Password: BlueHarbor2026': a short value of the
    kind asked for, under a label the question names."""
    head, colon, value = label_split(unit.text, unit.kind in READ)
    return bool(colon and terms(head) & question and 0 < count_words(value) <= 12
                and count_words(head) <= 4
                and (kind not in ("number", "time", "clock") or _holds(Unit(value), kind)))


def _counts(question: AbstractSet[str], unit: Unit) -> bool:
    """'3 users', '2 stories', '30 days': a number counting what the question asks about;
    'line 4', 'PostgreSQL 14': a number naming it."""
    return any(stem(w.lower()) in question
               for w in _COUNT.findall(unit.text) + _NUMBERED.findall(unit.text))


def candidates(question: str, evidence: list[tuple[int, Hit]]) -> list[Scored]:
    """Every quotable unit of the evidence, scored without a model: the overlap with the
    question, the kind of value asked for, and the rank of its evidence."""
    q = terms(question)
    kind = wanted(question)
    found: list[tuple[int, int, Unit]] = []
    context: dict[int, AbstractSet[str]] = {}  # a figure's words around it: its passage's
    for rank, (n, hit) in enumerate(evidence):
        if not hit.text:
            continue
        section = str(hit.metadata.get(items.SECTION, ""))
        found += [(rank, n, u) for u in units(items.body_of(hit.text, section),
                                              lines=hit.channel == "ocr",
                                              label=last_heading(section))
                  if not (u.kind in ("sentence", "item") and u.text.endswith(ASKS))]
        if figures := shown(hit):
            context[n] = terms(hit.text)
            found += [(rank, n, u) for u in figures]
    # an FAQ question labels its answer and is left out; each question word is weighted by
    # how few of the units hold it
    df: dict[str, int] = {}
    for _, _, u in found:
        for t in terms(u.text) & q:
            df[t] = df.get(t, 0) + 1
    weight = {t: math.log(1 + len(found) / (1 + df.get(t, 0))) for t in q}
    asked_numbers = set(_DIGITS.findall(question))
    out: list[Scored] = []
    for rank, n, u in found:
        label = context[n] if u.kind == FIGURE else terms(u.label)  # a figure: its passage
        bonus = RANK_PRIOR * (1 - rank / max(len(evidence), 1))
        if terms(u.text) <= q and not set(_DIGITS.findall(u.text)) - asked_numbers:
            # it only repeats the question: a title, not an answer ("2 entries" is one)
            bonus -= NOTHING_NEW
        if _holds(u, kind):
            bonus += KIND_BONUS
        if _label_value(q, u, kind):
            bonus += LABEL_VALUE
        if kind == "number" and _counts(q, u):
            bonus += LABEL_VALUE
        if u.kind in ("sentence", "item") and count_words(u.text) < 4:
            bonus -= 0.1  # a fragment
        out.append(Scored(overlap(q, u, label, weight) + bonus, n, u, bonus))
    return out


def pick(question: str, evidence: list[tuple[int, Hit]],
         embedder: TextEmbedder | None = None,
         words: WordVectors | None = None,
         multilingual: TextEmbedder | None = None) -> list[Scored]:
    """The units best answering ``question``, best first. With an embedder, the lexically
    best candidates are re-scored with the cosine between the question and each unit (read
    under its label): by ``words`` where given, except lines read in pictures, which the
    model reads (``cosines``)."""
    found = sorted(candidates(question, evidence), key=lambda s: s.score, reverse=True)
    if embedder is None or not found:
        return found
    top = found[:MAX_CANDIDATES]
    cos = cosines(question, top, embedder, words, multilingual)
    rescored = [Scored((1 - SEMANTIC) * (s.score - s.bonus) + SEMANTIC * float(c) + s.bonus,
                       s.n, s.unit, s.bonus)
                for s, c in zip(top, cos, strict=True)]
    return sorted(rescored, key=lambda s: s.score, reverse=True)


def _this_picture_first(question: str, evidence: list[tuple[int, Hit]],
                        ranked: list[Scored]) -> list[Scored]:
    """A question asked with a picture from the knowledge base ("what is the password on this
    sign?") may be answered by a line of that picture: a value under a label the question
    names ("Password: BlueHarbor2026"), when the question asks what or which. That line goes
    first; otherwise the ranking stands (the picture may show the error a page explains)."""
    if not ranked or not _ASKS_WHAT.match(question):
        return ranked
    q, kind = terms(question), wanted(question)
    for n, hit in evidence:
        if hit.channel != items.EXACT_CHANNEL or not hit.text:
            continue
        for u in units(hit.text, lines=True):
            if _label_value(q, u, kind):
                return [Scored(ranked[0].score, n, u, ranked[0].bonus), *ranked]
    return ranked


def cosines(question: str, top: list[Scored], embedder: TextEmbedder,
            words: WordVectors | None = None,
            multilingual: TextEmbedder | None = None) -> np.ndarray:
    """The question's cosine with each unit. Sentences, list items, table rows and code
    lines go by the word vectors (a lookup per token: ~3 ms an answer against ~43 ms through
    the model, with as many facts found on django-docs); lines read in pictures go through
    the model, as do all units without word vectors: clipped, misread interface text
    ("Select articleto change") lost two of 19 screenshot answers by word vectors alone.
    With a ``multilingual`` model, a unit the text model cannot read (or every unit, when it
    cannot read the question) goes through that model."""
    texts = [f"{s.unit.label}: {s.unit.text}" if s.unit.label else s.unit.text for s in top]
    by_ml = ([] if multilingual is None else list(range(len(top)))
             if needs_multilingual(question) else
             [i for i, t in enumerate(texts) if needs_multilingual(t)])
    by_model = [i for i, s in enumerate(top) if (words is None or s.unit.kind in READ)
                and i not in by_ml]
    by_words = [i for i in range(len(top)) if i not in set(by_model) | set(by_ml)]
    cos = np.zeros(len(top), dtype=np.float32)
    for picked, encoder in ((by_words, words), (by_model, embedder), (by_ml, multilingual)):
        if picked and encoder is not None:  # the question alone: the retriever's, remembered
            q = np.asarray(encoder.embed([question]), dtype=np.float32)[0]
            cos[picked] = np.asarray(encoder.embed([texts[i] for i in picked]),
                                     dtype=np.float32) @ q
    return cos


def quote(s: Scored, max_chars: int, also: tuple[int, ...] = ()) -> str:
    """A unit as quoted: the label it stands under first, unless the unit already says it;
    ``also``: more evidence saying the same words, cited with it."""
    text = s.unit.text
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] + " \u2026"
    label = s.unit.label
    named = terms(label) <= terms(text) if terms(label) else label.lower() in text.lower()
    prefix = f"{label}: " if label and not named and len(label) <= 80 else ""
    cites = "".join(f"[{n}]" for n in (s.n, *also))
    return f"{prefix}\u201c{text}\u201d {cites}"


class ExtractiveGenerator:
    name = "extractive"
    supports_images = False
    supports_streaming = True

    def __init__(self, max_quotes: int = 2, max_quote_chars: int = 400,
                 embedder: TextEmbedder | None = None, second_quote: float = 0.75,
                 word_vectors: bool = True):
        self.max_quotes = max_quotes
        self.max_quote_chars = max_quote_chars
        self.embedder = embedder  # the service's text model, for semantic unit scores
        self.multilingual: TextEmbedder | None = None  # for units the text model cannot read
        self.word_vectors = word_vectors  # its word vectors where it has them (``cosines``)
        self.second_quote = second_quote  # a second quote scores this share of the first

    def use_embedder(self, embedder: TextEmbedder,
                     multilingual: TextEmbedder | None = None) -> None:
        self.embedder, self.multilingual = embedder, multilingual

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
            return say("not_found", question)
        words = (self.embedder.word_vectors()
                 if self.word_vectors and self.embedder is not None else None)
        ranked = _this_picture_first(question, evidence,
                                     pick(question, evidence, self.embedder, words,
                                          self.multilingual))
        lines: list[str] = []
        if ranked:
            top = ranked[0]
            # the same words in several places (two screenshots of one page) are quoted once,
            # citing each place, and the next quote says something else
            chosen: dict[str, tuple[Scored, list[int]]] = {}
            for s in ranked:
                if s is not top and (s.score <= 0 or s.score < top.score * self.second_quote):
                    break
                says = said(s.unit.text)
                if (same := chosen.get(says)) is not None:
                    if s.n != same[0].n and s.n not in same[1]:
                        same[1].append(s.n)
                elif len(chosen) < self.max_quotes:
                    chosen[says] = (s, [])
            lines = [quote(s, self.max_quote_chars, tuple(also)) for s, also in chosen.values()]
        images = [(n, h) for n, h in evidence if h.modality == "image" and not h.text]
        if images:
            refs = ", ".join(f"[{n}] {items.display_source(h.source)}"
                             + (f" ({where})" if (where := items.location(h.metadata)) else "")
                             for n, h in images[:3])
            lines.append(f"Relevant image{'s' if len(images) > 1 else ''}: {refs}")
        return "\n".join(lines)
