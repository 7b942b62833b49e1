"""The other two OpenAI shapes clients call, over the same answering as chat: the legacy
``/v1/completions`` (LlamaIndex's OpenAILike calls it by default; the prompt is the question)
and the Responses API (``/v1/responses``; ``client.responses.create``). A request becomes a
chat request; an answer or a stream becomes their wire shapes, sources included (the
Responses API has url_citation annotations on its output text; legacy completions have no
slot for sources, so they get the Markdown list, per the footer setting)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from pydantic import Field, ValidationError

from rag.errors import InvalidInput
from rag.schema import Answer, Fusion
from rag.service import Stream

from ..errors import describe
from ..links import Links
from ..schemas import CitationOut, RequestModel, UsageOut, collection_field
from . import sources
from .protocol import MAX_MESSAGES, OPENAI_MODEL, SSE_DONE, ChatMessage, ChatRequest, sse
from .serving import pieces


class _Extras(RequestModel):
    """mmrag's own fields, sent through extra_body."""

    model_config = OPENAI_MODEL
    collection: str | None = collection_field()
    top_k: int | None = Field(None, ge=1, le=100)
    fusion: Fusion | None = None
    sources_footer: bool | None = None


class CompletionRequest(_Extras):
    model: str = Field(max_length=200)
    prompt: str | Annotated[list[str], Field(max_length=MAX_MESSAGES)]
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    user: str | None = Field(None, max_length=256)

    def as_chat(self) -> ChatRequest:
        prompt = self.prompt if isinstance(self.prompt, str) else "\n".join(self.prompt)
        return ChatRequest(model=self.model, messages=[ChatMessage(role="user", content=prompt)],
                           stream=self.stream, max_tokens=self.max_tokens,
                           temperature=self.temperature, top_p=self.top_p, stop=self.stop,
                           user=self.user, collection=self.collection, top_k=self.top_k,
                           fusion=self.fusion, sources_footer=self.sources_footer)


class ResponsesRequest(_Extras):
    model: str = Field(max_length=200)
    input: str | Annotated[list[dict[str, Any]], Field(max_length=MAX_MESSAGES)]
    instructions: str | None = None  # a generator with a system prompt of its own ignores it
    stream: bool = False
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    user: str | None = Field(None, max_length=256)

    def as_chat(self) -> ChatRequest:
        try:
            return self._as_chat()
        except ValidationError as e:  # an input item of the wrong shape: the caller's error
            first = e.errors()[0]
            where = ".".join(str(x) for x in first.get("loc", ()))
            raise InvalidInput(f"input: {where + ': ' if where else ''}{first['msg']}") from None

    def _as_chat(self) -> ChatRequest:
        if isinstance(self.input, str):
            messages = [ChatMessage(role="user", content=self.input)]
        else:
            messages = [self._message(item) for item in self.input
                        if item.get("type", "message") == "message"]
        return ChatRequest(model=self.model, messages=messages or [ChatMessage(role="user")],
                           stream=self.stream, max_tokens=self.max_output_tokens,
                           temperature=self.temperature, top_p=self.top_p, user=self.user,
                           collection=self.collection, top_k=self.top_k, fusion=self.fusion,
                           sources_footer=False)

    @staticmethod
    def _message(item: dict[str, Any]) -> ChatMessage:
        content = item.get("content")
        if isinstance(content, list):
            parts: list[dict[str, Any]] = []
            for part in content:
                if not isinstance(part, dict):
                    raise InvalidInput("each part of an input message's content is an object")
                kind = part.get("type")
                if kind in ("input_text", "output_text", "text"):
                    parts.append({"type": "text", "text": part.get("text", "")})
                elif kind == "input_image":
                    url = part.get("image_url")
                    if not isinstance(url, str):
                        raise InvalidInput("an input_image part needs an image_url (a data URI "
                                           "or an http(s) URL); file ids are not supported")
                    parts.append({"type": "image_url", "image_url": {"url": url}})
                else:
                    raise InvalidInput(f"unsupported input part type {kind!r}: use "
                                       "input_text or input_image")
            content = parts
        return ChatMessage(role=item.get("role", "user"), content=content)


# -- legacy completions --------------------------------------------------------------------
def completion(answer: Answer, model: str, links: Links, with_footer: bool) -> dict[str, Any]:
    citations = [CitationOut.of(c, links) for c in answer.citations]
    shown = with_footer and answer.found
    text = answer.text + (sources.footer(citations, answer.question) if shown else "")
    return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "text": text, "logprobs": None,
                         "finish_reason": answer.finish_reason}],
            "usage": UsageOut.of(answer.usage).model_dump(),
            "citations": [c.model_dump() for c in citations]}


async def completion_events(stream: Stream, model: str, links: Links,
                            next_piece: Any, with_footer: bool) -> AsyncIterator[bytes]:
    head = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion",
            "created": int(time.time()), "model": model}

    def event(text: str, finish: str | None = None, **extra: Any) -> bytes:
        return sse({**head, "choices": [{"index": 0, "text": text, "logprobs": None,
                                         "finish_reason": finish}], **extra})

    try:
        parts, last = [], None
        async for text, end in pieces(stream, next_piece):
            if text:
                parts.append(text)
                yield event(text)
            last = end or last
        citations = [CitationOut.of(c, links) for c in stream.cite("".join(parts))]
        shown = with_footer and bool(stream.request.evidence)
        tail = sources.footer(citations, stream.request.question) if shown else ""
        finish = (last.finish_reason if last else None) or "stop"
        yield event(tail, finish, citations=[c.model_dump() for c in citations],
                    usage=UsageOut.of(last.usage if last else None).model_dump())
        yield SSE_DONE
    except Exception as e:
        yield sse(describe(e)[1])


# -- the Responses API ---------------------------------------------------------------------
def _response(rid: str, model: str, status: str, text: str | None,
              annotations: list[dict[str, Any]], usage: UsageOut | None,
              citations: list[CitationOut] | None = None) -> dict[str, Any]:
    output = [] if text is None else [{
        "type": "message", "id": f"msg_{rid}", "status": status, "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": annotations}]}]
    out: dict[str, Any] = {
        "id": f"resp_{rid}", "object": "response", "created_at": int(time.time()),
        "status": status, "model": model, "output": output, "error": None,
        "incomplete_details": None, "instructions": None, "metadata": {},
        "parallel_tool_calls": False, "tool_choice": "none", "tools": [],
        "usage": None if usage is None else {
            "input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}}}
    if citations is not None:
        out["citations"] = [c.model_dump() for c in citations]
    return out


def _flat(citations: list[CitationOut], text: str) -> list[dict[str, Any]]:
    """The Responses API's url_citation is flat: type, url, title, start_index, end_index."""
    return [{"type": "url_citation", **a.url_citation.model_dump()}
            for a in sources.url_citations(text, citations)]


def response(answer: Answer, model: str, links: Links) -> dict[str, Any]:
    citations = [CitationOut.of(c, links) for c in answer.citations]
    return _response(uuid.uuid4().hex, model, "completed", answer.text,
                     _flat(citations, answer.text), UsageOut.of(answer.usage), citations)


async def response_events(stream: Stream, model: str, links: Links,
                          next_piece: Any) -> AsyncIterator[bytes]:
    """response.created ... output_text.delta ... response.completed, as the openai package
    reads them; each event names its type and carries a sequence number."""
    rid = uuid.uuid4().hex
    seq = 0

    def event(kind: str, **data: Any) -> bytes:
        nonlocal seq
        seq += 1
        return f"event: {kind}\n".encode() + sse({"type": kind, "sequence_number": seq,
                                                   **data})

    where: dict[str, Any] = {"item_id": f"msg_{rid}", "output_index": 0}
    try:
        yield event("response.created", response=_response(rid, model, "in_progress", None,
                                                           [], None))
        yield event("response.output_item.added", output_index=0, item={
            "type": "message", "id": f"msg_{rid}", "status": "in_progress",
            "role": "assistant", "content": []})
        yield event("response.content_part.added", **where, content_index=0,
                    part={"type": "output_text", "text": "", "annotations": []})
        parts, last = [], None
        async for text, end in pieces(stream, next_piece):
            if text:
                parts.append(text)
                yield event("response.output_text.delta", **where, content_index=0,
                            delta=text, logprobs=[])
            last = end or last
        text = "".join(parts)
        citations = [CitationOut.of(c, links) for c in stream.cite(text)]
        notes = _flat(citations, text)
        for i, note in enumerate(notes):
            yield event("response.output_text.annotation.added", **where, content_index=0,
                        annotation_index=i, annotation=note)
        yield event("response.output_text.done", **where, content_index=0, text=text,
                    logprobs=[])
        part = {"type": "output_text", "text": text, "annotations": notes}
        yield event("response.content_part.done", **where, content_index=0, part=part)
        done = _response(rid, model, "completed", text, notes,
                         UsageOut.of(last.usage if last else None), citations)
        yield event("response.output_item.done", output_index=0, item=done["output"][0])
        yield event("response.completed", response=done)
    except Exception as e:
        body = describe(e)[1]
        yield event("error", code=body["error"]["code"], message=body["error"]["message"],
                    param=None)

