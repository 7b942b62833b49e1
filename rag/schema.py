"""Domain types shared by every layer: what is stored, what is retrieved, what is answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Modality = Literal["text", "image"]
Fusion = Literal["raw", "calibrated", "rrf"]
FUSIONS: tuple[Fusion, ...] = ("raw", "calibrated", "rrf")


@dataclass
class Hit:
    """One retrieved item. ``score`` is the fused score used for ranking; ``raw_score`` is the
    cosine similarity in its own embedding space; ``calibrated_score`` is the raw score
    standardised against its collection's background (see rag/retrieval/fusion.py)."""

    id: str
    modality: Modality
    source: str
    raw_score: float
    calibrated_score: float
    score: float
    channel: str
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    stored_id: str = ""  # the stored item matched: text read in a picture has its own id
    lexical: float = 0.0  # what full-text search added to calibrated_score


@dataclass
class Citation:
    """Evidence numbered as the answer cites it: ``[n]``."""

    n: int
    id: str
    modality: Modality
    source: str
    score: float
    snippet: str | None = None
    cited: bool = False
    location: str | None = None  # "page 3", "slide 2"
    # why it was found: the channel (text, image, image_query, exact, ocr, caption) and the
    # cosine in its own space, standardised against its background (see rag/retrieval/fusion.py)
    channel: str = ""
    raw_score: float = 0.0
    calibrated_score: float = 0.0


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    hits: list[Hit]
    generator: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    found: bool = True
    notes: list[str] = field(default_factory=list)
    finish_reason: str = "stop"  # the generator's: "length" when it was cut
    # whether the collection answers the question: the rule, the score that decided, its bar
    answerability: dict[str, Any] = field(default_factory=dict)


@dataclass
class Query:
    """A question: text, images (raw bytes), or both. ``text`` is what retrieval searches
    with; ``ask`` is the question as the user put it, for the answer, when the two differ
    (a chat follow-up rewritten into a standalone query)."""

    text: str = ""
    image: bytes | None = None
    collection: str = "default"
    top_k: int = 5
    fusion: Fusion = "calibrated"
    images: list[bytes] = field(default_factory=list)
    ask: str | None = None
    tags: list[str] = field(default_factory=list)  # only pictures with all these tags

    @property
    def all_images(self) -> list[bytes]:
        return ([self.image] if self.image else []) + list(self.images)
