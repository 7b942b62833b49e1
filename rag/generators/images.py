"""Turning stored images into what model APIs accept."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any


def load_rgb(path: str, max_side: int | None = None) -> Any:
    from PIL import Image

    with Image.open(path) as im:
        im.seek(0)
        rgb = im.convert("RGB")
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return rgb


def data_uri(path: str, max_side: int) -> str:
    """A base64 data URI of the image, downscaled so its longer side is at most ``max_side``.
    Screenshots and charts stay PNG (sharp text); photos become JPEG (small)."""
    img = load_rgb(path, max_side)
    lossless = Path(path).suffix.lower() in (".png", ".gif", ".bmp", ".tif", ".tiff")
    buf = io.BytesIO()
    if lossless:
        img.save(buf, "PNG", optimize=True)
        mime = "image/png"
    else:
        img.save(buf, "JPEG", quality=90)
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode()}"
