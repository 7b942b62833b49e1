"""Embedding adapters. Heavy libraries are imported inside each adapter's ``load()``."""

from __future__ import annotations

from rag.embedders.hub import resolve_device

__all__ = ["resolve_device"]
