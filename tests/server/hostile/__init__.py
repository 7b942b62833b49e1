"""A corpus of hostile files, generated (nothing binary is committed):
``python -m tests.server.hostile OUT_DIR`` writes them; the tests call ``corpus()``.

Bombs (zip, XML entity, page, pixel, content stream), malformed and truncated files,
polyglots, encrypted PDFs, JavaScript in PDFs, pathological text, nested archives."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from .images import (
    bmp_header,
    gif_header,
    gif_many_frames,
    image,
    jpeg_header,
    png_header,
    png_inflating,
)
from .office import _PARA, LAUGHS, MB, XXE, docx, many_entries, pptx_bomb, zero_zip, zip_of
from .pdf import (
    pdf_deep,
    pdf_encrypted,
    pdf_image_bomb,
    pdf_js,
    pdf_loop,
    pdf_pages,
    pdf_stream_bomb,
    pdf_text,
)


def corpus() -> dict[str, Callable[[], bytes]]:
    """name -> builder. Every name is unique; the extension decides the loader."""
    text_bomb_unit = _PARA.format("lorem ipsum dolor sit amet")
    return {
        # Office: zip bombs, entity attacks, broken packages
        "zip-bomb.docx": lambda: docx(repeat=9_000_000, unit="<w:p><w:r><w:t>a</w:t></w:r></w:p>"),
        "ratio-bomb-16mb.docx": lambda: docx(repeat=280_000, unit=text_bomb_unit),
        "xml-40mb.docx": lambda: docx(repeat=1_100_000, unit=text_bomb_unit),
        "zip-bomb.pptx": pptx_bomb,
        "billion-laughs.docx": lambda: docx(_PARA.format("&lol9;"), prolog=LAUGHS),
        "xxe.docx": lambda: docx(_PARA.format("&xxe;"), prolog=XXE),
        "xxe-in-rels.docx": lambda: docx(extra={"word/_rels/document.xml.rels":
                                                f"<?xml version='1.0'?>{XXE}<r>&xxe;</r>"
                                                .encode()}),
        "xxe.pptx": lambda: docx(prolog=XXE).replace(b"word/", b"ppt//"),
        "utf16-part.docx": lambda: docx(extra={"word/styles.xml": "\ufeff<a/>".encode(
            "utf-16")}),
        "many-entries.docx": many_entries,
        "zero-media.docx": lambda: docx(extra={"word/media/zeros.bin": bytes(300 * MB)}),
        "nested-zip.docx": lambda: docx(extra={"word/embeddings/a.zip": zip_of(zero_zip(
            64 * MB))}),
        "no-document.docx": lambda: zip_of(b"hello", "readme.txt"),
        "random.docx": lambda: bytes(range(256)) * 64,
        "truncated.docx": lambda: docx()[:600],
        "empty.pptx": lambda: b"",
        "random.pptx": lambda: b"PK\x03\x04" + bytes(2000),
        # PDF: page bombs, content-stream bombs, structure attacks, encryption, scripts
        "page-bomb.pdf": lambda: pdf_pages(1, size=(14400, 14400), content=b"0 0 m 10 10 l S"),
        "blank-pages.pdf": lambda: pdf_pages(60),
        "blank-drawn-pages.pdf": lambda: pdf_pages(40, content=b"1 1 1 rg 0 0 612 792 re f"),
        "many-pages.pdf": lambda: pdf_pages(5000),
        "stream-bomb.pdf": pdf_stream_bomb,
        "image-bomb.pdf": pdf_image_bomb,
        "page-tree-loop.pdf": pdf_loop,
        "deep-nesting.pdf": pdf_deep,
        "javascript.pdf": pdf_js,
        "aes-empty-password.pdf": lambda: pdf_encrypted(""),
        "aes-password.pdf": lambda: pdf_encrypted("s3cret"),
        "truncated.pdf": lambda: pdf_text()[:200],
        "header-only.pdf": lambda: b"%PDF-1.7\n",
        "no-xref.pdf": lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
        "pdf-zip-polyglot.pdf": lambda: pdf_text("A polyglot.") + zip_of(b"x" * 1000),
        "zip-named.pdf": lambda: zip_of(b"not a pdf"),
        "garbage.pdf": lambda: bytes(range(256)) * 100,
        # images: headers that promise billions of pixels, truncation, polyglots, animation
        "huge.png": lambda: png_header(100_000, 100_000),
        "inflating.png": png_inflating,
        "huge.gif": lambda: gif_header(65535, 65535),
        "huge.jpg": lambda: jpeg_header(65000, 65000),
        "huge.bmp": lambda: bmp_header(60_000, 60_000),
        "huge-negative.bmp": lambda: bmp_header(50_000, -50_000),
        "huge.tiff": lambda: image("TIFF")[:8] + image("TIFF")[8:].replace(
            struct.pack("<H", 64), struct.pack("<H", 65535), 1),
        "frames.gif": gif_many_frames,
        "truncated.jpg": lambda: image("JPEG")[:150],
        "truncated.webp": lambda: image("WEBP")[:40],
        "png-zip-polyglot.png": lambda: image("PNG") + zip_of(b"x" * 5000),
        "text-named.jpg": lambda: b"plain words pretending to be a picture",
        "html-named.png": lambda: b"<html><script>alert(1)</script></html>",
        "zero.png": lambda: b"",
        # text: pathological punctuation, no spaces, giant lines, encodings, markup
        "question-marks.txt": lambda: b"?" * 30_000,
        "bangs.md": lambda: b"# Title\n\n" + b"!" * 50_000 + b"\n\nA real sentence after.",
        "no-spaces.txt": lambda: b"abc" * 700_000,
        "one-line-300kb.txt": lambda: b"word " * 60_000,
        "nul-bytes.txt": lambda: b"text\x00" * 1000,
        "bad-utf16.txt": lambda: b"\xff\xfe" + b"\x00\xd8" * 1000,
        "deep-headings.md": lambda: b"\n".join(b"#" * (1 + i % 6) + b" h" for i in range(50_000)),
        "image-refs.md": lambda: "".join(f"![x](../../../../etc/passwd{i}) ![y](/dev/zero) "
                                         f"![z](/proc/self/mem)\n" for i in range(3000)).encode(),
        "nested-divs.html": lambda: b"<div>" * 200_000 + b"deep" + b"</div>" * 200_000,
        "xxe.html": lambda: (XXE + "<html><body>&xxe; visible</body></html>").encode(),
        "laughs.html": lambda: (LAUGHS + "<html><body>&lol9;</body></html>").encode(),
        "script-only.html": lambda: b"<script>" + b"x" * 100_000 + b"</script>",
        "entities.html": lambda: b"<p>" + b"&amp;&lt;&#x10FFFF;&#99999999;" * 20_000 + b"</p>",
        # other kinds: video, unsupported types, archives
        "random.mp4": lambda: bytes(range(256)) * 400,
        "truncated.webm": lambda: b"\x1aE\xdf\xa3" + bytes(300),
        "image.svg": lambda: ('<?xml version="1.0"?>' + LAUGHS + '<svg xmlns="http://www.w3'
                              '.org/2000/svg"><text>&lol9;</text></svg>').encode(),
        "laughs.xml": lambda: (LAUGHS + "<r>&lol9;</r>").encode(),
        "bomb.zip": lambda: zero_zip(64 * MB),
        "nested.zip": lambda: zip_of(zip_of(zero_zip(16 * MB))),
        "payload.exe": lambda: b"MZ" + bytes(500),
    }


def main(out: str) -> None:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in corpus().items():
        data = build()
        (folder / name).write_bytes(data)
        print(f"{len(data):>12,}  {name}")
