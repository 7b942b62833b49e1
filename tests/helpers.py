"""Small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def save_image(path: Path, color: tuple[int, int, int], size=(64, 48), fmt: str | None = None,
               pattern: int = 0) -> Path:
    """A small image with a colour and a pattern, so that different images embed apart."""
    im = Image.new("RGB", size, color)
    for x in range(0, size[0], 8 + pattern):
        for y in range(0, size[1], 4 + pattern):
            im.putpixel((x, y), (255 - color[0], 255 - color[1], 255 - color[2]))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format=fmt)
    return path


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size=(32, 24)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()
