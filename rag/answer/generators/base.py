"""Helpers shared by generators."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.protocols import GenerationChunk
from rag.schema import Usage
from rag.text.language import MESSAGES

NOT_FOUND = MESSAGES["not_found"]["en"]  # the refusal in English (say(): its language)
_CITE = re.compile(r"\[(\d{1,3})\]")


def collect(chunks: Iterable[GenerationChunk]) -> tuple[str, Usage, str | None]:
    """Join a stream into (text, usage, finish_reason)."""
    parts: list[str] = []
    usage, finish = Usage(), None
    for c in chunks:
        parts.append(c.text)
        if c.usage is not None:
            usage = c.usage
        if c.finish_reason is not None:
            finish = c.finish_reason
    return "".join(parts), usage, finish


def cited_numbers(text: str) -> set[int]:
    return {int(n) for n in _CITE.findall(text)}
