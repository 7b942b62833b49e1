"""Token-aware chunking, linear in its input on any text.

A text is cut into pieces of at most ``PIECE_CHARS`` characters (at a line break or a space
where there is one), each piece is tokenized once with the embedder's own tokenizer (its Rust
backend, with character offsets), and the piece's units (sentences, lines, list items, table
rows) are packed into chunks of at most ``chunk_size`` tokens, neighbours sharing up to
``chunk_overlap`` tokens. A unit longer than a chunk (a 20 MB line, a row of 4,000 '?') is cut
by token offsets. Nothing here is recursive or quadratic: the work is one tokenizer call per
bounded piece plus a pass over its tokens."""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from rag.errors import TooLarge

PIECE_CHARS = 20_000  # the most text one tokenizer call sees
# a unit ends after sentence punctuation followed by white space (Chinese 。！？； need none),
# at a blank line, or at a line break before a list item, table row, heading or quote
# (hard-wrapped prose stays whole)
_BOUNDARY = re.compile(r"(?<=[.!?;:\u3002\uff01\uff1f])\s+|(?<=[\u3002\uff01\uff1f\uff1b])(?=\S)"
                       r"|\n\s*\n\s*"
                       r"|\n(?=[ \t]*(?:[-*+\u2022|#>]|\d{1,3}[.)]\s))")


def pieces(text: str, size: int = PIECE_CHARS) -> Iterator[tuple[int, int]]:
    """(start, end) spans covering ``text``, each at most ``size`` characters, cut at the last
    line break in the window, else the last space, else hard."""
    start, n = 0, len(text)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = text.rfind("\n", start + size // 2, end)
            if cut < 0:
                cut = text.rfind(" ", start + size // 2, end)
            if cut > start:
                end = cut + 1
        yield start, end
        start = end


class Chunker:
    """``new_tokenizer`` returns a fresh tokenizer: HF fast tokenizers must not be shared
    between threads, so each loader thread gets its own. ``max_seconds`` bounds the time one
    text may take (checked between pieces)."""

    def __init__(self, new_tokenizer: Callable[[], Any], chunk_size: int, chunk_overlap: int,
                 max_seconds: float = 120.0):
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self.new_tokenizer = new_tokenizer
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.max_seconds = max_seconds
        self._local = threading.local()  # one tokenizer per loader thread

    def _offsets(self) -> Callable[[str], list[tuple[int, int]]]:
        fn = getattr(self._local, "offsets", None)
        if fn is None:
            fn = self._local.offsets = _offset_counter(self.new_tokenizer())
        return fn  # type: ignore[no-any-return]

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        offsets = self._offsets()
        deadline = time.monotonic() + self.max_seconds
        for start, end in pieces(text):
            if time.monotonic() >= deadline:
                raise TooLarge(f"chunking took over {self.max_seconds:g} s (at character "
                               f"{start:,} of {len(text):,}; MMRAG_INGEST__CHUNK_SECONDS)")
            piece = text[start:end]
            chunks += self._pack(piece, offsets(piece))
        return [c for c in chunks if c.strip()]

    def _units(self, piece: str, starts: list[int],
               spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """Token ranges [i, j) of the piece's units, none longer than a chunk."""
        first = 0
        for m in _BOUNDARY.finditer(piece):
            last = bisect.bisect_left(starts, m.start(), lo=first)
            yield from self._cut(first, last)
            first = last
        yield from self._cut(first, len(spans))

    def _cut(self, i: int, j: int) -> Iterator[tuple[int, int]]:
        step = self.chunk_size - self.chunk_overlap
        if j - i <= self.chunk_size:
            if j > i:
                yield i, j
            return
        while i < j:  # an overlong unit: windows of a chunk's size, overlapping
            yield i, min(i + self.chunk_size, j)
            if i + self.chunk_size >= j:
                break
            i += step

    def _pack(self, piece: str, spans: list[tuple[int, int]]) -> list[str]:
        if not spans:
            return [piece] if piece.strip() else []
        starts = [s for s, _ in spans]
        out: list[str] = []
        units: list[tuple[int, int]] = []  # the current chunk's units (token ranges)
        size = 0
        for i, j in self._units(piece, starts, spans):
            if units and size + (j - i) > self.chunk_size:
                out.append(piece[spans[units[0][0]][0]:spans[units[-1][1] - 1][1]])
                keep: list[tuple[int, int]] = []  # the tail that the next chunk repeats
                kept = 0
                for u in reversed(units):
                    if kept + (u[1] - u[0]) > self.chunk_overlap or len(keep) + 1 == len(units):
                        break
                    keep.insert(0, u)
                    kept += u[1] - u[0]
                if kept + (j - i) > self.chunk_size:
                    keep, kept = [], 0
                units, size = keep, kept
            units.append((i, j))
            size += j - i
        if units:
            out.append(piece[spans[units[0][0]][0]:spans[units[-1][1] - 1][1]])
        return out


def _offset_counter(tok: Any) -> Callable[[str], list[tuple[int, int]]]:
    """Character spans of a text's tokens. A fast tokenizer's Rust backend gives them in one
    call; this copy is private, so its truncation (the model's input limit) can be lifted to
    measure long texts in full. ``tok`` may be that backend itself (a ``tokenizers.Tokenizer``,
    as kept beside an export). A slow tokenizer is measured word by word."""
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None and hasattr(tok, "no_truncation"):
        backend = tok
    if backend is None:
        def slow(text: str) -> list[tuple[int, int]]:
            spans = []
            for m in re.finditer(r"\S+", text):
                n = max(1, len(tok.tokenize(m.group(0))))
                step = max(1, len(m.group(0)) // n)
                spans += [(m.start() + k * step, min(m.end(), m.start() + (k + 1) * step))
                          for k in range(n)]
            return spans
        return slow
    backend.no_truncation()
    backend.no_padding()
    return lambda text: list(backend.encode(text, add_special_tokens=False).offsets)
