"""Request and response bodies of the HTTP API (the CLI's --json prints the same shapes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag import items
from rag.schema import Answer, Citation, Fusion, Hit, Usage
from rag.settings import COLLECTION_PATTERN

from .links import Links


class RequestModel(BaseModel):
    """A request body: strict types (true is no number, "5" no integer), except that 42.0 is
    the integer 42, as JSON Schema counts it."""

    model_config = ConfigDict(strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            return int(value)  # a float field takes it back as 42.0
        return value


MAX_TAGS = 32
# a collection name as the server checks it (a 400 otherwise); names differ by more than case
def collection_field() -> Any:
    return Field(None, description="collection name, case-insensitive; default 'default'",
                 json_schema_extra={"pattern": COLLECTION_PATTERN})


class QueryRequest(RequestModel):
    # a question has words (not only spaces), an image, or both
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": ["question"], "properties": {"question": {"pattern": r"\S"}}},
        {"required": ["image"], "properties": {"image": {"type": "string", "minLength": 1}}}]})
    question: str = Field("", description="the question; may be empty when an image is given; "
                          "no control characters or unpaired surrogates (400)")
    image: str | None = Field(None, description="an image to search by: base64 or a data URI")
    top_k: int | None = Field(None, ge=1, le=100)
    collection: str | None = collection_field()
    fusion: Fusion | None = None
    generator: str | None = Field(None, max_length=100,
                                  description="a generator GET /v1/models lists (404 otherwise)")
    tags: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=MAX_TAGS,
                            description="only pictures with these tags")


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

    @classmethod
    def of(cls, h: Hit, links: Links) -> HitOut:
        return cls(id=h.id, modality=h.modality, source=items.display_source(h.source),
                   score=h.score, raw_score=h.raw_score, calibrated_score=h.calibrated_score,
                   channel=h.channel, text=h.text,
                   image_url=links.image(h.id) if h.modality == "image" else None,
                   metadata={k: v for k, v in h.metadata.items()  # no server paths or keys
                             if k != items.SOURCE and k not in items.BLOB_KEYS})


class CitationOut(BaseModel):
    """A numbered piece of evidence, the same in /v1/query and the chat API."""

    n: int
    id: str
    modality: Literal["text", "image"]
    source: str
    location: str | None = None
    score: float
    url: str | None = None
    snippet: str | None = None
    cited: bool
    channel: str = ""  # how it was found: text, image, image_query, exact, ocr, caption
    raw_score: float = 0.0  # cosine in its own embedding space
    calibrated_score: float = 0.0  # standard deviations above an unrelated match

    @classmethod
    def of(cls, c: Citation, links: Links) -> CitationOut:
        return cls(n=c.n, id=c.id, modality=c.modality, source=c.source, location=c.location,
                   channel=c.channel, raw_score=round(c.raw_score, 4),
                   calibrated_score=round(c.calibrated_score, 4), score=round(c.score, 4),
                   url=links.image(c.id) if c.modality == "image" else links.item(c.id),
                   snippet=c.snippet, cited=c.cited)


class UsageOut(BaseModel):
    """Tokens, OpenAI's shape, everywhere usage is reported."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, usage: Usage | None) -> UsageOut:
        if usage is None:
            return cls()
        return cls(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                   total_tokens=usage.total_tokens)


class QueryResponse(BaseModel):
    question: str
    answer: str
    found: bool
    generator: str
    citations: list[CitationOut]
    hits: list[HitOut]
    timings_ms: dict[str, float]
    usage: UsageOut
    notes: list[str] = []
    # whether the collection answers the question: the rule, the score that decided, its bar
    answerability: dict[str, Any] = {}

    @classmethod
    def from_answer(cls, a: Answer, links: Links) -> QueryResponse:
        return cls(
            question=a.question,
            answer=a.text,
            found=a.found,
            generator=a.generator,
            citations=[CitationOut.of(c, links) for c in a.citations],
            hits=[HitOut.of(h, links) for h in a.hits],
            timings_ms={k: round(v, 2) for k, v in a.timings_ms.items()},
            usage=UsageOut.of(a.usage),
            notes=a.notes,
            answerability=a.answerability,
        )


class FileResultOut(BaseModel):
    source: str
    status: Literal["ingested", "replaced", "unchanged", "claimed", "skipped", "failed"]
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


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str


class ErrorOut(BaseModel):
    """Every error, OpenAI-style."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# what every authenticated model or data endpoint may answer besides its success
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("unusable input (a bad image, a bad collection name, a duplicate file name)"),
    401: _error("missing or invalid API key"),
    403: _error("the key may not use this collection"),
    404: _error("no such collection, document, job, image, item or model"),
    413: _error("over a limit: body, upload, pixels, question length"),
    422: _error("the body does not match the schema"),
    503: _error("busy (Retry-After, in seconds) or a model is unavailable"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _error("no such document, job, image or model")}


class JobAccepted(BaseModel):
    job_id: str
    status: str
    status_url: str


INGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "ingested in the request"},
    202: {"model": JobAccepted, "description": "queued as a background job"},
    429: _error("the job queue is full (Retry-After, in seconds)"),
}
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "a chat completion, or with stream=true server-sent events",
          "content": {"application/json": {}, "text/event-stream": {}}},
    502: _error("the model API failed or could not be reached"),
}
