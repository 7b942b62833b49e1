"""Hostile images: headers that declare huge sizes, inflating pixels, endless frames."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_header(w: int, h: int, idat: bytes = zlib.compress(b"")) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def png_inflating() -> bytes:  # 7000 x 7000 of zeros: 147 MB of pixels from a few hundred KB
    comp = zlib.compressobj(9)
    row = bytes(1 + 7000 * 3)
    data = b"".join(comp.compress(row) for _ in range(7000)) + comp.flush()
    return png_header(7000, 7000, data)


def gif_header(w: int, h: int) -> bytes:
    return (b"GIF89a" + struct.pack("<HH", w, h) + b"\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHH", 0, 0, w, h) + b"\x00\x02\x02\x44\x01\x00\x3b")


def jpeg_header(w: int, h: int) -> bytes:
    real = image("JPEG", (16, 16))
    sof = real.index(b"\xff\xc0")
    return real[:sof + 5] + struct.pack(">HH", h, w) + real[sof + 9:]


def image(fmt: str, size: tuple[int, int] = (64, 48), **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buf, fmt, **kw)
    return buf.getvalue()


def gif_many_frames() -> bytes:
    frames = [Image.new("P", (32, 32), i % 256) for i in range(3000)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def bmp_header(w: int, h: int) -> bytes:
    return (b"BM" + struct.pack("<IHHI", 54, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 0, 0, 0, 0))
