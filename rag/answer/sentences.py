"""The units of a passage weighed against a question's words: the overlap score the
extractive answer starts from, and the sentence a citation shows as its snippet."""

from __future__ import annotations

import json
import re
from collections.abc import Set as AbstractSet

from rag import items
from rag.schema import Hit
from rag.text.terms import count_words, terms
from rag.text.units import COLONS, FIGURE, READ, Unit, units

ASKS = ("?", "\uff1f")  # a question ends with one of these (ASCII or full-width)
_FIELD = re.compile(r"^((?=[^:]*[A-Za-z])[^:]+?)\s+([-+]?\d[\d.,]*\s*(?:%|px|ppi|[KMGT]i?B|bytes)?"
                    r"|\(\d[^()]*\))$")


def last_heading(section: str) -> str:
    """The heading a passage stands under: the last step of its path."""
    return section.split(" > ")[-1] if section else ""


def label_split(text: str, line: bool = False) -> tuple[str, str, str]:
    """"Label: value" (or "标签：值") as (label, colon, value). With ``line`` (a line read in a
    picture), an interface field without a colon too: "Center abscissa 320,00", "Amethyst
    (64 × 64)", a label and the number or bracketed value that ends the line (the colon
    returned is then a space)."""
    head, colon, value = text.partition(":")
    if not colon and "\uff1a" in text:
        head, colon, value = text.partition("\uff1a")
    if not colon and line and (m := _FIELD.match(text)):
        return m.group(1), " ", m.group(2)
    return head, colon, value


def is_label(s: str) -> bool:
    """Headings, FAQ questions and short lines label what follows; they are not answers."""
    return s.startswith("#") or s.endswith(ASKS) or s.endswith(COLONS) or count_words(s) < 4


def overlap(question: AbstractSet[str], unit: Unit, label_terms: AbstractSet[str],
             weight: dict[str, float] | None = None) -> float:
    """The weighted share of the question's words the unit holds (half for words of the
    label it stands under). ``weight``: a word found in fewer of the evidence's units counts
    more ("poe" over "admin" in a list of admin users)."""
    words = terms(unit.text)
    if not words or not question:
        return 0.0
    w = weight or {}
    total = sum(w.get(t, 1.0) for t in question)

    def share(ts: AbstractSet[str]) -> float:
        return sum(w.get(t, 1.0) for t in ts) / total

    score = share(question & words) + 0.5 * share((question & label_terms) - words)
    head, colon, value = label_split(unit.text, unit.kind in READ)
    if colon and value.strip() and terms(head) & question:
        # "Assembly point: parking lot C": a value under a label the question asks about
        score += 0.5 * share(terms(head) & question)
    return score


def best_sentence(question: AbstractSet[str], text: str, lines: bool = False,
                  section: str = "") -> tuple[float, str]:
    """The unit of one passage that best matches the question's terms, by overlap alone
    (for citation snippets). ``section`` is the heading path a chunk starts with."""
    best = (0.0, "")
    for u in units(items.body_of(text, section), lines=lines, label=last_heading(section)):
        if not lines and is_label(u.text):
            continue
        score = overlap(question, u, terms(u.label))
        if score > best[0]:
            best = (score, u.text)
    return best


def opening(text: str) -> str:
    """The first real sentence, for evidence that shares no words with the question."""
    body = [u.text for u in units(text) if not is_label(u.text)]
    return body[0] if body else text.strip()


def shown(hit: Hit) -> list[Unit]:
    """The lines read in the pictures a page's passage shows (``items.SHOWS``), as units of
    that passage labelled with the picture they are in: the page says what a dialog is, its
    screenshot what the dialog holds."""
    raw = hit.metadata.get(items.SHOWS)
    if not raw:
        return []
    try:
        shows = json.loads(str(raw))
    except ValueError:
        return []
    return [Unit(u.text, f"image {ref}", FIGURE) for ref, text in shows
            for u in units(str(text), lines=True)]
