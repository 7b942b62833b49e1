"""Request and response bodies of the HTTP API (the CLI's --json prints the same shapes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from rag.schema import Answer, Fusion


class QueryRequest(BaseModel):
    question: str = Field("", description="the question; may be empty when an image is given")
    image: str | None = Field(None, description="an image to search by: base64 or a data URI")
    top_k: int | None = Field(None, ge=1, le=100)
    collection: str | None = None
    fusion: Fusion | None = None
    generator: str | None = None
    tags: list[str] = Field(default_factory=list, description="only pictures with these tags")


class HitOut(BaseModel):
    id: str
    modality: Literal["text", "image"]
    source: str
    score: float
    raw_score: float
    calibrated_score: float
    channel: str
    text: str | None = None
    image_url: str | None = None
    metadata: dict[str, Any] = {}


class CitationOut(BaseModel):
    n: int
    id: str
    modality: Literal["text", "image"]
    source: str
    score: float
    snippet: str | None = None
    url: str | None = None
    cited: bool
    location: str | None = None


class QueryResponse(BaseModel):
    question: str
    answer: str
    found: bool
    generator: str
    citations: list[CitationOut]
    hits: list[HitOut]
    timings_ms: dict[str, float]
    usage: dict[str, int]
    notes: list[str] = []

    @classmethod
    def from_answer(cls, a: Answer) -> QueryResponse:
        return cls(
            question=a.question,
            answer=a.text,
            found=a.found,
            generator=a.generator,
            citations=[CitationOut(**vars(c)) for c in a.citations],
            hits=[HitOut(**vars(h)) for h in a.hits],
            timings_ms={k: round(v, 2) for k, v in a.timings_ms.items()},
            usage={"prompt_tokens": a.usage.prompt_tokens,
                   "completion_tokens": a.usage.completion_tokens,
                   "total_tokens": a.usage.total_tokens},
            notes=a.notes,
        )


class FileResultOut(BaseModel):
    source: str
    status: Literal["ingested", "replaced", "unchanged", "skipped", "failed"]
    chunks: int
    images: int
    reason: str
    doc_id: str


class IngestResponse(BaseModel):
    collection: str
    files: list[FileResultOut]
    chunks: int
    images: int
    skipped: int
    failed: int
    seconds: float
    notes: list[str]


class DocumentOut(BaseModel):
    id: str
    source: str
    sha256: str
    size: int
    kind: str
    ingested_at: str
    chunks: int
    images: int
    status: str


class DocumentList(BaseModel):
    collection: str
    documents: list[DocumentOut]
