"""Image files: decoded within the pixel limit (a JPEG at the scale the models need), kept
byte for byte as the stored copy."""

from __future__ import annotations

from pathlib import Path

from .base import Limits, Loaded, picture


def load_image(data: bytes, limits: Limits, *, name: str = "", base: Path | None = None) -> Loaded:
    return Loaded("image", pictures=[picture(data, limits)])
