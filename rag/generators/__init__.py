"""Generators and the registry that picks one by name (``MMRAG_GENERATOR``)."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidInput
from ..protocols import Generator
from ..settings import Settings
from .extractive import ExtractiveGenerator


def _extractive(settings: Settings) -> Generator:
    return ExtractiveGenerator()


REGISTRY: dict[str, Callable[[Settings], Generator]] = {"extractive": _extractive}


def build_generator(name: str, settings: Settings) -> Generator:
    """Construct (cheaply: weights and clients load on first use) the generator ``name``."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise InvalidInput(
            f"unknown generator {name!r}; available: {', '.join(sorted(REGISTRY))}"
        ) from None
    return factory(settings)
