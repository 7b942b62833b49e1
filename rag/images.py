"""Decoding untrusted image bytes safely: size checked from the header before any pixel is
decoded (decompression bombs), first frame of animations, always RGB out."""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from typing import Any

from rag.errors import InvalidInput, TooLarge

FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp",
           "TIFF": ".tiff", "MPO": ".jpg"}
_DATA_URI = re.compile(r"^data:(image/[\w.+-]+)?(;[\w-]+=[\w.-]+)*;base64,", re.I)


def decode_image(data: bytes, max_pixels: int, target: int | None = None) -> tuple[Any, str]:
    """Returns (RGB PIL image, canonical extension). Raises InvalidInput for anything that is
    not a complete image in a supported format, TooLarge past ``max_pixels``.

    With ``target`` (the model's input side), JPEGs are decoded at the smallest DCT scale that
    still covers ``target`` pixels on each side: several times faster for photos, and the
    model sees the same picture. ``info["original_size"]`` keeps the size of the file."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidInput("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = im.format or ""
            if fmt not in FORMATS:
                raise InvalidInput(f"unsupported image format {fmt or 'unknown'}")
            w, h = im.size
            if w * h > max_pixels:
                raise TooLarge(
                    f"image is {w}x{h} = {w * h:,} pixels, over the limit of {max_pixels:,} "
                    "(a possible decompression bomb; raise MMRAG_INGEST__MAX_IMAGE_PIXELS if real)"
                )
            if w == 0 or h == 0:
                raise InvalidInput("image has no pixels")
            im.seek(0)  # first frame of GIF/WebP animations
            if target and fmt in ("JPEG", "MPO"):
                im.draft("RGB", (target, target))
            im.load()
            rgb = im.convert("RGB")
            rgb.info["original_size"] = (w, h)
    except (InvalidInput, TooLarge):
        raise
    except UnidentifiedImageError as e:
        raise InvalidInput("not a recognisable image (corrupt or not an image file)") from e
    except Image.DecompressionBombError as e:
        raise TooLarge(f"decompression bomb refused: {e}") from e
    except Image.DecompressionBombWarning as e:
        raise TooLarge(f"decompression bomb refused: {e}") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InvalidInput(f"corrupt or truncated image: {e}") from e
    return rgb, FORMATS[fmt]


def decode_base64_image(value: str, max_bytes: int) -> bytes:
    """Accepts a bare base64 string or a data URI; returns the bytes."""
    value = value.strip()
    m = _DATA_URI.match(value)
    if m:
        value = value[m.end():]
    elif value.startswith("data:"):
        raise InvalidInput("image data URI must be base64-encoded (data:image/...;base64,...)")
    if len(value) * 3 // 4 > max_bytes:
        raise TooLarge(f"image is larger than the limit of {max_bytes:,} bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidInput(f"image is not valid base64: {e}") from e
