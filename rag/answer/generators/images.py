"""Turning stored images into what model APIs accept."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any


def load_rgb(source: str | bytes, max_side: int | None = None) -> Any:
    """A stored image (path) or one a user sent (bytes), as RGB, optionally downscaled."""
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
        im.seek(0)
        rgb = im.convert("RGB")
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return rgb


def data_uri(source: str | bytes, max_side: int) -> str:
    """A base64 data URI of the image, downscaled so its longer side is at most ``max_side``.
    Screenshots and charts stay PNG (sharp text); photos become JPEG (small)."""
    img = load_rgb(source, max_side)
    if isinstance(source, bytes):
        lossless = not source.startswith(b"\xff\xd8")  # anything but a JPEG
    else:
        lossless = Path(source).suffix.lower() in (".png", ".gif", ".bmp", ".tif", ".tiff")
    buf = io.BytesIO()
    if lossless:
        img.save(buf, "PNG", optimize=True)
        mime = "image/png"
    else:
        img.save(buf, "JPEG", quality=90)
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode()}"
