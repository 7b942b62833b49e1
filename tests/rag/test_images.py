import base64
import io
import struct
import zlib

import pytest
from PIL import Image

from rag.errors import InvalidInput, TooLarge
from rag.images import decode_base64_image, decode_image


def png_bytes(size=(20, 10), color=(1, 2, 3), noise=False) -> bytes:
    buf = io.BytesIO()
    im = Image.effect_noise(size, 64).convert("RGB") if noise else Image.new("RGB", size, color)
    im.save(buf, "PNG")
    return buf.getvalue()


def huge_png_header(w: int, h: int) -> bytes:
    """A PNG that claims w x h pixels: what a decompression bomb looks like to a decoder."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) \
        + chunk(b"IEND", b"")


def test_decodes_to_rgb_with_canonical_extension():
    img, ext = decode_image(png_bytes(), 10_000)
    assert img.mode == "RGB" and img.size == (20, 10) and ext == ".png"


def test_gif_gives_its_first_frame():
    frames = [Image.new("P", (8, 8), i) for i in (1, 2)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    img, ext = decode_image(buf.getvalue(), 10_000)
    assert ext == ".gif" and img.size == (8, 8)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"hello, I am text", "not a recognisable image"),
    (png_bytes()[:40], "not a recognisable image"),
    (png_bytes((200, 200), noise=True)[:5000], "corrupt or truncated"),
])
def test_bad_images_are_refused_with_a_reason(data, message):
    with pytest.raises(InvalidInput, match=message):
        decode_image(data, 1_000_000)


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(TooLarge, match="decompression bomb"):
        decode_image(huge_png_header(100_000, 100_000), 64_000_000)


def test_pixel_limit_applies():
    with pytest.raises(TooLarge, match="200 pixels, over the limit of 100"):
        decode_image(png_bytes((20, 10)), 100)


def test_base64_and_data_uri():
    raw = png_bytes()
    b64 = base64.b64encode(raw).decode()
    assert decode_base64_image(b64, 10_000) == raw
    assert decode_base64_image("data:image/png;base64," + b64, 10_000) == raw
    with pytest.raises(InvalidInput, match="base64"):
        decode_base64_image("not base64 !!", 10_000)
    with pytest.raises(InvalidInput, match="must be base64"):
        decode_base64_image("data:image/png,rawbytes", 10_000)
    with pytest.raises(TooLarge):
        decode_base64_image(b64, 10)
