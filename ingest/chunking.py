"""Token-aware chunking with llama-index's SentenceSplitter, counting tokens with the text
embedder's own tokenizer so that a chunk never exceeds what the model reads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Chunker:
    """``new_tokenizer`` returns a fresh tokenizer: HF fast tokenizers must not be shared
    between threads, so each loader thread gets its own."""

    def __init__(self, new_tokenizer: Callable[[], Any], chunk_size: int, chunk_overlap: int):
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self.new_tokenizer = new_tokenizer
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._local = threading.local()  # one tokenizer and splitter per loader thread

    def _splitter(self) -> Any:
        splitter = getattr(self._local, "splitter", None)
        if splitter is None:
            from llama_index.core.node_parser import SentenceSplitter
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # "sequence longer than max length" is expected
            splitter = SentenceSplitter(
                chunk_size=self.chunk_size,
                chunk_overlap=self.chunk_overlap,
                tokenizer=_token_counter(self.new_tokenizer()),
                paragraph_separator="\n\n",
            )
            self._local.splitter = splitter
        return splitter

    def split(self, text: str) -> list[str]:
        return [c for c in self._splitter().split_text(text) if c.strip()]


def _token_counter(tok: Any) -> Callable[[str], list]:
    """What the splitter measures texts with. A fast tokenizer's Rust backend counts the same
    tokens as ``tok.tokenize`` at about two thirds of the cost; this copy is private, so its
    truncation (the model's input limit) can be lifted to count long texts in full."""
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None:
        return tok.tokenize  # type: ignore[no-any-return]
    backend.no_truncation()
    backend.no_padding()
    return lambda text: backend.encode(text, add_special_tokens=False).ids
