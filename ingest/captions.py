"""Captions at ingest (off by default): a vision generator (LLaVA, or GPT-4o / an
OpenAI-compatible model) describes each picture in a sentence, and the caption is indexed as
text that links back to the picture, like OCR text. Captioning runs one picture at a time."""

from __future__ import annotations

import io
import threading
from typing import Any

from rag.errors import InvalidInput
from rag.generators.base import collect
from rag.protocols import GenerationRequest, Generator

PROMPT = ("Describe this picture in one or two factual sentences: what it shows, and any "
          "visible text.")


class GeneratorCaptioner:
    def __init__(self, generator: Generator, max_tokens: int = 60):
        if not generator.supports_images:
            raise InvalidInput(f"the {generator.name} generator cannot see images; caption with "
                               "llava or openai (MMRAG_INGEST__CAPTION_GENERATOR)")
        self.generator = generator
        self.max_tokens = max_tokens
        self._lock = threading.Lock()

    def caption(self, image: Any) -> str:
        """``image``: an RGB PIL image."""
        buf = io.BytesIO()
        image.save(buf, "PNG")
        request = GenerationRequest(PROMPT, [], question_images=[buf.getvalue()],
                                    max_tokens=self.max_tokens, options={"stream": False})
        with self._lock:
            return collect(self.generator.generate(request))[0].strip()
