"""The OpenAI wire format mmrag speaks: typed requests, responses and stream chunks, and the
one serializer of each shape mmrag adds (usage, citations). Field names and nesting follow
OpenAI's API reference, so the ``openai`` package, LangChain, LlamaIndex, ``llm`` and Open
WebUI read them unmodified; mmrag's own additions are extra fields they ignore."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from rag.schema import Fusion

from ..schemas import CitationOut, RequestModel, UsageOut, collection_field

MAX_MESSAGES = 500  # turns in one chat request
MAX_PARTS = 64  # parts of one message's content
# OpenAI's clients send fields mmrag does not use (seed, tools, response_format, ...): they
# are accepted and ignored, as OpenAI-compatible servers do. Types are strict (no true for 1).
OPENAI_MODEL = ConfigDict(extra="allow", strict=True)


class ChatMessage(RequestModel):
    model_config = OPENAI_MODEL
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | Annotated[list[dict[str, Any]], Field(max_length=MAX_PARTS)] | None = None


class StreamOptions(RequestModel):
    model_config = OPENAI_MODEL
    include_usage: bool = False


class ChatRequest(RequestModel):
    model_config = OPENAI_MODEL
    model: str = Field(max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    user: str | None = Field(None, max_length=256)
    n: int = Field(1, ge=1, le=1)
    # mmrag's own fields, sent by OpenAI clients through extra_body
    sources_footer: bool | None = None  # the Markdown sources list; None = server setting
    collection: str | None = collection_field()
    top_k: int | None = Field(None, ge=1, le=100)
    fusion: Fusion | None = None


MAX_EMBEDDING_INPUTS = 2048
T = TypeVar("T")
_Inputs = Annotated[list[T], Field(max_length=MAX_EMBEDDING_INPUTS)]


class EmbeddingRequest(RequestModel):
    model_config = OPENAI_MODEL
    # text, texts, or token ids (which this server cannot read: see serving.embeddings)
    input: str | _Inputs[str] | _Inputs[int] | _Inputs[list[int]] = Field(
        description="a text or a list of texts (token ids are refused with 400: this server "
        "embeds text with its own tokenizer)")
    model: str | None = Field(None, max_length=200)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="only the text model's own "
                                   "dimension is accepted (400 otherwise)")


class MmragInfo(BaseModel):
    """What mmrag says besides the answer: which generator, whether evidence was found."""

    generator: str
    found: bool
    notes: list[str] = []
    timings_ms: dict[str, float] | None = None
    answerability: dict[str, Any] | None = None  # the rule, the score that decided, its bar


class UrlCitation(BaseModel):
    url: str
    title: str
    start_index: int  # the span of the answer text the source backs: its [n] marker
    end_index: int


class Annotation(BaseModel):
    """OpenAI's slot for sources (``message.annotations``), which clients render."""

    type: Literal["url_citation"] = "url_citation"
    url_citation: UrlCitation


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    annotations: list[Annotation] = []


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str = "stop"
    logprobs: None = None


class _Completion(BaseModel):
    """What a completion and each of its chunks carry: one id, time and model."""

    id: str
    created: int
    model: str


class ChatCompletion(_Completion):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[Choice]
    usage: UsageOut
    citations: list[CitationOut]
    mmrag: MmragInfo


class ChunkChoice(BaseModel):
    index: int = 0
    delta: dict[str, Any]  # {"role", "content"} or a part of them, {} at the end
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(_Completion):
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    choices: list[ChunkChoice]
    usage: UsageOut | None = None
    citations: list[CitationOut] | None = None
    mmrag: MmragInfo | None = None

    def sse(self) -> bytes:
        body = self.model_dump(exclude_none=True)
        body["choices"] = [c.model_dump() for c in self.choices]  # logprobs: null stays
        return sse(body)


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str  # floats, or base64 of little-endian float32


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


def sse(obj: dict[str, Any]) -> bytes:
    """One server-sent event."""
    import json

    return f"data: {json.dumps(obj)}\n\n".encode()


SSE_DONE = b"data: [DONE]\n\n"
