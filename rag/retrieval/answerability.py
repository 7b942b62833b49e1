"""Whether the collection answers a question at all, decided against what a match looks like
in *this* collection.

The old rule (``background``) answers when a hit stands ``min_relevance`` standard deviations
above the generic probe questions' matches (fusion.py). On a collection about one topic
every on-topic question passes it: the docs of a web framework match any question about web
frameworks far better than "How do I cook rice?" does.

The ``in-corpus`` rule asks two things of the best evidence:

- **meaning**: its cosine stands above what the best match in *another* document looks like
  for sentences taken from the collection itself (fitted by calibration.fit_in_corpus: an
  on-topic question whose answer is elsewhere, or nowhere);
- **words**: it holds the question's distinctive words. Each word counts by its inverse
  document frequency in the collection, so a name the collection never mentions
  (``ADMIN_THEME_COLOR``) weighs most, and "default" or "value" little.

The question is answered when ``meaning + WORDS_WEIGHT * (coverage - 0.5)`` reaches
``IN_CORPUS_THRESHOLD``; that score is reported with the answer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rag import items
from rag.protocols import LexicalIndex
from rag.retrieval.calibration import IN_CORPUS
from rag.retrieval.fusion import Background
from rag.schema import Hit
from rag.text.language import language
from rag.text.terms import query_words

IN_CORPUS_THRESHOLD = -0.5
WORDS_WEIGHT = 6.0
TOP = 3  # the hits whose words count: the best evidence, not all of it


@dataclass
class Verdict:
    answerable: bool
    rule: str
    score: float  # what was compared with the threshold
    threshold: float
    detail: dict[str, float] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """As the answer's metadata shows it: the rule, the score that decided, its bar."""
        return {"answerable": self.answerable, "rule": self.rule,
                "score": round(self.score, 3), "threshold": self.threshold,
                **{k: round(v, 3) for k, v in self.detail.items()}}


def coverage(question: str, hits: list[Hit], lexical: LexicalIndex, collection: str
             ) -> float:
    """The share of the question's word weight (inverse document frequency in the
    collection) that the best of the top hits holds."""
    words = query_words(question)
    texts = [h.text for h in hits[:TOP] if h.text]
    if not words or not texts:
        return 0.0
    n = lexical.count(collection)
    df = lexical.frequencies(collection, words)
    idf = {w: math.log((n + 1) / (df.get(w, 0) + 0.5)) for w in words}
    total = sum(idf.values()) or 1.0
    best = 0.0
    for text in texts:
        have = set(query_words(text))
        best = max(best, sum(v for w, v in idf.items() if w in have) / total)
    return best


def decide(question: str, hits: list[Hit], rule: str, min_relevance: float,
           text_meta: dict, lexical: LexicalIndex | None, collection: str,
           across_languages: bool = False, multilingual_meta: dict | None = None) -> Verdict:
    """``across_languages``: the text model puts a question and its answer in another language
    near each other (a multilingual model), so its matches can be trusted across them; so
    are the multilingual channel's (its fits in ``multilingual_meta``)."""
    # the vectors' own score: what full-text search added does not count against the generic
    # background, which was fitted on cosines alone
    best = max((h.calibrated_score - h.lexical for h in hits), default=0.0)
    old = Verdict(best >= min_relevance, "background", best, min_relevance)
    if rule == "background" or not question.strip() or not hits:
        return old
    # each hit's cosine against the in-corpus fit of the space it was found in
    fits = {items.MULTILINGUAL_CHANNEL: Background.stored(multilingual_meta or {}, IN_CORPUS)}
    bg = Background.stored(text_meta, IN_CORPUS)
    fitted = [(h, f) for h in hits if h.text and h.channel != items.EXACT_CHANNEL
              and (f := fits.get(h.channel, bg)) is not None]
    texts = [h for h, _ in fitted]
    if lexical is None or not texts:
        return old  # a small collection, or none of its text found: the old rule stands
    across_languages = across_languages or any(h.channel == items.MULTILINGUAL_CHANNEL
                                               for h in texts[:TOP])
    # a question in another language than its evidence (English asked of Chinese pages)
    # shares no words with it. The in-corpus background was fitted on the collection's own
    # sentences, in its language: with a multilingual model the generic background decides;
    # otherwise only the meaning speaks, the words counting as neutral
    asked = language(question)
    if not any(language(h.text or "") == asked for h in texts[:TOP]):
        if across_languages:
            return Verdict(old.answerable, "background (across languages)", best,
                           min_relevance)
        words = 0.5
    else:
        words = coverage(question, texts, lexical, collection)
    meaning = max(f.z(h.raw_score) for h, f in fitted)
    score = meaning + WORDS_WEIGHT * (words - 0.5)
    return Verdict(old.answerable and score >= IN_CORPUS_THRESHOLD, "in-corpus", score,
                   IN_CORPUS_THRESHOLD, {"meaning": meaning, "words": words,
                                         "best_calibrated": best})
