"""Metric functions. Each takes plain values, so each can be checked against hand-computed
numbers (tests/eval/test_metrics.py)."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from rag.text.language import HAN_CHARS

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CITE = re.compile(r"\[\d{1,3}\]")
_WS = re.compile(r"\s+")
_HAN = re.compile(f"[{HAN_CHARS}]")


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith(("P", "S"))


def normalize(text: str) -> str:
    """SQuAD-style: lower case, no punctuation (curly quotes and other Unicode punctuation
    too: an answer quoted as “2 stories” contains "2 stories"), no articles,
    single spaces. Each Han character is a token of its own, as MLQA and CMRC score Chinese
    (it has no spaces: "有6个可切换的" contains the answer "6个")."""
    text = _CITE.sub(" ", text.lower())
    text = _HAN.sub(r" \g<0> ", text)
    text = "".join(" " if _is_punct(ch) else ch for ch in text)
    return _WS.sub(" ", _ARTICLES.sub(" ", text)).strip()


# -- retrieval ---------------------------------------------------------------------------
def is_relevant(source: str, item_id: str, relevant: str) -> bool:
    """A hit matches a relevant entry by id, by whole path, by trailing path components
    ("images/chart.png" matches "/data/kb/images/chart.png"), or, for files uploaded over
    HTTP (stored under their bare name), by file name."""
    return (item_id == relevant or source == relevant or source.endswith("/" + relevant)
            or source == relevant.rsplit("/", 1)[-1])


def relevance_flags(hits: Sequence[tuple[str, str]], relevant: Sequence[str]) -> list[int]:
    """For ranked hits (source, id): the index of the relevant entry each one satisfies for the
    first time, or -1. A second hit on an already-found entry counts as not relevant, so no
    metric can exceed 1."""
    found: set[int] = set()
    flags = []
    for source, item_id in hits:
        match = -1
        for j, rel in enumerate(relevant):
            if j not in found and is_relevant(source, item_id, rel):
                match = j
                found.add(j)
                break
        flags.append(match)
    return flags


def hit_at_k(flags: Sequence[int], k: int) -> float:
    return float(any(f >= 0 for f in flags[:k]))


def recall_at_k(flags: Sequence[int], n_relevant: int, k: int) -> float:
    return sum(f >= 0 for f in flags[:k]) / n_relevant if n_relevant else 0.0


def mrr(flags: Sequence[int]) -> float:
    return next((1.0 / rank for rank, f in enumerate(flags, 1) if f >= 0), 0.0)


def ndcg_at_k(flags: Sequence[int], n_relevant: int, k: int) -> float:
    """Binary gains; the ideal ranking puts every relevant entry first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, f in enumerate(flags[:k], 1) if f >= 0)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


# -- answers -----------------------------------------------------------------------------
def exact_match(prediction: str, answers: Sequence[str]) -> float:
    p = normalize(prediction)
    return float(any(p == normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """The best token-overlap F1 against any accepted answer."""
    pred = normalize(prediction).split()
    best = 0.0
    for a in answers:
        ref = normalize(a).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def containment(prediction: str, answers: Sequence[str]) -> float:
    """1 if an accepted answer appears in the prediction (after normalising both)."""
    p = f" {normalize(prediction)} "
    return float(any(f" {normalize(a)} " in p for a in answers if normalize(a)))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, answers: Sequence[str]) -> float:
    """ROUGE-L F-measure (longest common subsequence of tokens), best over answers."""
    pred = normalize(prediction).split()
    best = 0.0
    for a in answers:
        ref = normalize(a).split()
        lcs = _lcs(pred, ref)
        if lcs:
            p, r = lcs / len(pred), lcs / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


def bleu(prediction: str, answers: Sequence[str]) -> float:
    """Sentence BLEU (sacrebleu, 0-100) with all accepted answers as references."""
    import sacrebleu

    if not answers:
        return 0.0
    return float(sacrebleu.sentence_bleu(prediction, list(answers)).score)


def answer_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [s.strip() for s in parts if len(normalize(s).split()) >= 2]


def groundedness(answer: str, evidence: Sequence[str], threshold: float = 0.6) -> float | None:
    """Share of answer sentences whose content words mostly (``threshold``) appear in the
    evidence. Lexical: it checks support, not truth. None when the answer has no sentence."""
    sentences = answer_sentences(answer)
    if not sentences:
        return None
    support = set(normalize(" ".join(evidence)).split())
    ok = 0
    for s in sentences:
        words = [w for w in normalize(s).split() if len(w) > 2]
        if words and sum(w in support for w in words) / len(words) >= threshold:
            ok += 1
    return ok / len(sentences)


def citation_precision(cited_sources: Sequence[tuple[str, str]],
                       relevant: Sequence[str]) -> float | None:
    """Share of cited evidence (source, id) that is relevant; None when nothing was cited."""
    if not cited_sources:
        return None
    good = sum(any(is_relevant(s, i, r) for r in relevant) for s, i in cited_sources)
    return good / len(cited_sources)


def refusal_correct(found: bool, unanswerable: bool) -> float:
    """An unanswerable question should be refused; an answerable one should not."""
    return float(found != unanswerable)


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def cer(prediction: str, truth: str) -> float:
    """Character error rate of OCR output against the true text."""
    return edit_distance(list(prediction), list(truth)) / max(len(truth), 1)


def wer(prediction: str, truth: str) -> float:
    """Word error rate of OCR output against the true text."""
    ref = truth.split()
    return edit_distance(prediction.split(), ref) / max(len(ref), 1)


def clip_score(image_vec: Sequence[float], text_vec: Sequence[float], w: float = 2.5) -> float:
    """CLIPScore (Hessel et al. 2021): w * max(cos, 0), on L2-normalised CLIP vectors, x100."""
    cos = sum(a * b for a, b in zip(image_vec, text_vec, strict=True))
    return 100 * w * max(cos, 0.0)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]
